"""Tests are hermetic: the developer's shell settings reach neither a test nor its processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.fixtures.environment import clean_environment
from zenodo_export.settings import load_settings

REPO_ROOT = Path(__file__).parent.parent

SHELL = {
    "ZENODO_EXPORT_VERSIONING": "none",
    "zenodo_export_max_attempts": "1",
    "DATABASE_URL": "nosuchdb://x",
    "ZENODO_KEY": "from-the-shell",
    "CREATOR": "Someone, Else",
    "ZENODO_EXPORT_TEST_POSTGRES": "postgresql://kept@127.0.0.1/postgres",
    "EXPECTED_TEST_POSTGRES": "postgresql://kept@127.0.0.1/postgres",
}
"""What a developer's shell may export; ``ZENODO_EXPORT_TEST_POSTGRES`` configures the tests."""


def test_a_test_sees_defaults_whatever_the_shell_exports() -> None:
    """Settings built in a test, and the environment its processes get, have none of ours."""
    settings = load_settings()
    assert settings.versioning == "native" and settings.max_attempts == 25
    assert settings.database_url is None and settings.zenodo_token is None
    assert settings.creator is None
    assert not {"ZENODO_EXPORT_VERSIONING", "DATABASE_URL", "ZENODO_KEY"} & set(os.environ)
    assert "ZENODO_EXPORT_VERSIONING" not in clean_environment()
    if "EXPECTED_TEST_POSTGRES" in os.environ:  # run by the test below: the server is kept
        assert os.environ.get("ZENODO_EXPORT_TEST_POSTGRES") == os.environ["EXPECTED_TEST_POSTGRES"]


def test_the_shell_cannot_change_a_test() -> None:
    """The test above passes in a pytest run started from a shell that sets our variables."""
    inner = test_a_test_sees_defaults_whatever_the_shell_exports.__name__
    this = f"{Path(__file__).relative_to(REPO_ROOT)}::{inner}"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", this],
        env={**os.environ, **SHELL},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
