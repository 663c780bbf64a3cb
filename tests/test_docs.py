"""Every setting and every command-line option is documented in the README."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer.main

from zenodo_export.cli import _register_commands, app
from zenodo_export.settings import Settings, env_name

README = (Path(__file__).parent.parent / "README.md").read_text()


def all_commands() -> list[tuple[str, Any]]:
    _register_commands()
    root = typer.main.get_command(app)
    found: list[tuple[str, Any]] = []
    for name, command in getattr(root, "commands", {}).items():
        found.append((name, command))
        subcommands = getattr(command, "commands", {})
        found += [(f"{name} {sub}", c) for sub, c in subcommands.items()]
    return found


@pytest.mark.parametrize("field", sorted(Settings.model_fields))
def test_every_setting_is_in_the_readme(field: str) -> None:
    """Each setting's environment variable appears in the README."""
    assert f"`{env_name(field)}`" in README


@pytest.mark.parametrize("name,command", all_commands(), ids=lambda v: str(v))
def test_every_command_and_option_is_in_the_readme(name: str, command: Any) -> None:
    """Each command, and each of its options, appears in the README."""
    assert f"zenodo-export {name}" in README
    for param in command.params:
        if param.param_type_name == "option" and param.opts[0] != "--help":
            assert param.opts[0] in README, f"{name} {param.opts[0]}"
