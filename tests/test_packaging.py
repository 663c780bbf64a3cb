"""Every file the package needs at run time is shipped in its wheel, not only in a checkout."""

from __future__ import annotations

import tomllib
from fnmatch import fnmatch
from pathlib import Path

import zenodo_export

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path(zenodo_export.__file__).parent


def test_every_data_file_matches_a_package_data_pattern() -> None:
    """Templates, styles, scripts, migrations' templates, JSON: each is named in pyproject's
    package-data (a plain ``pip install .`` once lacked the dashboard's CSS and script)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["zenodo_export"]
    data = [
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*")
        if path.is_file() and path.suffix not in (".py", ".pyc") and "__pycache__" not in path.parts
        and path.name != "py.typed"
    ]  # fmt: skip
    assert data, "the package holds data files"
    missing = [
        name
        for name in data
        if not any(fnmatch(name, p) or fnmatch(name, p.removeprefix("**/")) for p in patterns)
    ]
    assert missing == [], f"not shipped in the wheel: {missing}"
