"""The dependency floors are past the published advisories, and constraints.txt fits them."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

pytestmark = pytest.mark.hostile

ROOT = Path(__file__).resolve().parents[1]

FIXED = {
    "starlette": "1.6.0",  # CVE-2025-62727 (0.49.1), CVE-2026-48710 (1.0.1), GHSA-82w8 (1.3.1)
    "python-multipart": "0.0.32",  # CVE-2024-53981 (0.0.18) ... GHSA-v9pg-7xvm-68hf (0.0.31)
}
"""Each package with published advisories, and the first release past all of them."""


TESTED_EXTRAS = ("s3", "test", "dev")
"""The extras CI installs (and constraints.txt pins); gcs, azure and sftp are not tested here."""


def requirements(extras: tuple[str, ...] | None = None) -> list[Requirement]:
    """Return the requirements in pyproject.toml: runtime, ``extras`` (default all), build."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    lines = list(project["project"]["dependencies"])
    for name, extra in project["project"]["optional-dependencies"].items():
        if extras is None or name in extras:
            lines += [line for line in extra if not line.startswith("zenodo-export")]
    lines += project["build-system"]["requires"]
    return [Requirement(line) for line in lines]


def pins() -> dict[str, Version]:
    """Return constraints.txt as name -> pinned version."""
    found = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            found[canonicalize_name(name)] = Version(version)
    return found


def floor(requirement: Requirement) -> Version | None:
    """Return the lowest version ``requirement`` allows by a ``>=`` clause, if it has one."""
    lows = [Version(spec.version) for spec in requirement.specifier if spec.operator == ">="]
    return max(lows, default=None)


@pytest.mark.parametrize("name,fixed", sorted(FIXED.items()))
def test_no_floor_admits_a_release_with_a_published_advisory(name: str, fixed: str) -> None:
    """starlette and python-multipart are required at or past their last advisory's fix."""
    (requirement,) = [r for r in requirements() if canonicalize_name(r.name) == name]
    low = floor(requirement)
    assert low is not None and low >= Version(fixed), f"{requirement} admits versions < {fixed}"


def test_the_constraints_file_pins_versions_pyproject_allows() -> None:
    """Every requirement CI installs is pinned in constraints.txt, at a version it allows."""
    pinned = pins()
    for requirement in requirements(TESTED_EXTRAS):
        name = canonicalize_name(requirement.name)
        if name == "setuptools":
            continue  # a build requirement: pip freeze does not list it
        assert name in pinned, f"{name} is not pinned in constraints.txt"
        assert requirement.specifier.contains(pinned[name]), f"{name}=={pinned[name]}"
