"""The architecture as documented is the architecture in the code."""

from __future__ import annotations

import ast
import graphlib
import re
from pathlib import Path

import pytest

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


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Return, for each of our modules, the modules of ours it imports (also inside functions).

    Importing ``a.b.c`` imports the packages ``a.b`` and ``a.b.c`` too; imports under
    ``if TYPE_CHECKING:`` are left out, since they never run.
    """
    modules = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text())
        typing_only = {
            id(inner)
            for node in ast.walk(tree)
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
            for statement in node.body
            for inner in ast.walk(statement)
        }
        edges: set[str] = set()
        for imported in imported_modules_of(tree, typing_only):
            parts = imported.split(".")
            edges |= {
                prefix
                for prefix in (".".join(parts[:n]) for n in range(2, len(parts) + 1))
                if prefix in modules and not (name == prefix or name.startswith(prefix + "."))
            }
        graph[name] = edges
    return graph


def imported_modules_of(tree: ast.AST, skip: set[int]) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_no_import_cycles() -> None:
    """No module of ours imports, even lazily, a module that leads back to it."""
    try:
        tuple(graphlib.TopologicalSorter(import_graph()).static_order())
    except graphlib.CycleError as exc:
        pytest.fail(f"import cycle: {' -> '.join(exc.args[1])}")
