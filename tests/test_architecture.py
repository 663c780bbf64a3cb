"""The architecture as documented is the architecture in the code."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import zenodo_export
from zenodo_export.store import exports as export_states

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path(zenodo_export.__file__).parent
ARROW = re.compile(r"^\s*(\w+)\s*-->\s*(\w+)\s*:\s*(\w+)\s*$")
FEATURES = ("exports", "snapshots", "reports", "schedules", "cli", "kinds", "sandbox")


def drawn_transitions(text: str) -> set[tuple[str, str, str]]:
    """Return (from, event, to) for every arrow between two states in ``text``."""
    found = set()
    for line in text.splitlines():
        match = ARROW.match(line)
        if match and "[*]" not in line:
            source, target, event = match.groups()
            found.add((source, event, target))
    return found


def export_section(text: str) -> str:
    """Return the mermaid block under the "An export's states" heading."""
    section = text.split("## An export's states", 1)[1].split("\n## ", 1)[0]
    return section.split("```mermaid", 1)[1].split("```", 1)[0]


def coded_transitions() -> set[tuple[str, str, str]]:
    return {(state, event, target) for (state, event), target in export_states.TRANSITIONS.items()}


def test_the_state_diagram_in_the_docs_is_the_one_in_the_code() -> None:
    """docs/architecture.md draws exactly the export transitions that store/exports.py allows."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    assert drawn_transitions(export_section(text)) == coded_transitions()


def test_the_state_diagram_in_the_docstring_is_the_one_in_the_code() -> None:
    """store/exports.py's docstring draws exactly the transitions it allows."""
    assert drawn_transitions(export_states.__doc__ or "") == coded_transitions()


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_the_job_runtime_imports_no_feature() -> None:
    """Nothing under jobs/ imports a feature: features register their kinds with it."""
    offenders = {
        f"{path.name}: {name}"
        for path in (PACKAGE / "jobs").glob("*.py")
        for name in imported_modules(path)
        if name.startswith(tuple(f"zenodo_export.{feature}" for feature in FEATURES))
    }
    assert offenders == set()


def test_only_the_store_sets_an_exports_state() -> None:
    """The three timestamps an export's state is derived from are set in store/exports.py only."""
    setter = re.compile(r"\.(started_exporting_at|finished_exporting_at|failed_at)\s*=[^=]")
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if path != PACKAGE / "store" / "exports.py"
        and "sandbox" not in path.parts
        and setter.search(path.read_text())
    ]
    assert offenders == []
