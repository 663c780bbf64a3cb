"""Every setting and every command-line option is documented in the README."""

from __future__ import annotations

import re
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


def usages(name: str) -> list[str]:
    """Every usage line of the command ``name`` in the README's Commands table."""
    table = README.split("## Commands", 1)[1].split("\n## ", 1)[0]
    spans = re.findall(r"`(zenodo-export [^`]+)`", table)
    return [span for span in spans if re.match(rf"zenodo-export {name}( |$)", span)]


def depths(usage: str, option: str) -> list[int]:
    """How deep in ``[...]`` each mention of ``option`` in ``usage`` is (0: not optional)."""
    found = []
    for match in re.finditer(rf"{re.escape(option)}(?=[ \]|]|$)", usage):
        before = usage[: match.start()]
        found.append(before.count("[") - before.count("]"))
    return found


@pytest.mark.parametrize("name,command", all_commands(), ids=lambda v: str(v))
def test_the_readme_shows_each_option_required_as_help_does(name: str, command: Any) -> None:
    """An option that ``--help`` marks required is shown bare in the README's usage; one that
    is optional is shown in brackets."""
    for param in command.params:
        if param.param_type_name != "option" or param.opts[0] == "--help":
            continue
        mentions = [d for usage in usages(name) for d in depths(usage, param.opts[0])]
        if not mentions:
            continue  # documented in the text rather than the usage line
        if param.required:
            assert 0 in mentions, f"{name}: {param.opts[0]} is required but shown optional"
        else:
            assert 0 not in mentions, f"{name}: {param.opts[0]} is optional but shown required"


def test_the_readme_python_example_runs_as_written(tmp_path: Path) -> None:
    """The README's Python example, run word for word, queues one export with its file staged."""
    import json
    import subprocess
    import sys

    from tests.fixtures.environment import clean_environment

    snippet = README.split("```python\n", 1)[1].split("```", 1)[0]
    env = clean_environment(
        HOME=str(tmp_path / "home"), ZENODO_EXPORT_DATA_DIR=str(tmp_path / "data")
    )
    ran = subprocess.run(
        [sys.executable, "-c", snippet], env=env, cwd=tmp_path, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    listed = subprocess.run(
        [sys.executable, "-m", "zenodo_export", "show", "1", "--json"], env=env, cwd=tmp_path,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    view = json.loads(listed.stdout)
    assert view["name"] == "alm_combined_stats_report" and view["state"] == "pending"
    assert view["job"]["status"] == "queued" and view["data"]["staged"]
