"""Shared fixtures: real databases (SQLite files, the local PostgreSQL) and the real sandbox."""

from __future__ import annotations

import os

import pytest

from tests.fixtures.environment import is_setting

pytest_plugins = [
    "tests.fixtures.cli",
    "tests.fixtures.crawls",
    "tests.fixtures.database",
    "tests.fixtures.exports",
    "tests.fixtures.proxy",
    "tests.fixtures.sandbox",
    "tests.fixtures.web",
]


@pytest.fixture(autouse=True)
def hermetic_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run every test, and every process it starts, without the developer's settings.

    Removes ``ZENODO_*`` (``ZENODO_EXPORT_*``, ``ZENODO_URL``, ``ZENODO_TOKEN``, ``ZENODO_KEY``),
    ``DATABASE_URL``, ``CREATOR``, ``GITHUB_URL``, ``SITENAMELONG``, ``SERVERNAME`` and
    ``APPLICATION``; keeps ``ZENODO_EXPORT_TEST_POSTGRES``, which points the tests at a server.
    """
    for name in [name for name in os.environ if is_setting(name)]:
        monkeypatch.delenv(name)
