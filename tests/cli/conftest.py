"""Run the real CLI as a subprocess, with an environment of the test's own."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

CLI = [sys.executable, "-m", "zenodo_export"]
"""The command line that runs zenodo-export in this environment."""

OUR_VARIABLES = (
    "ZENODO_",
    "DATABASE_URL",
    "CREATOR",
    "GITHUB_URL",
    "SITENAMELONG",
    "SERVERNAME",
    "APPLICATION",
)


def clean_environment(**values: str) -> dict[str, str]:
    """Return this process's environment without our settings, plus ``values``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(OUR_VARIABLES)}
    env.update(values)
    return env


def sandbox_environment(sandbox: Any, tmp_path: Path, **extra: str) -> dict[str, str]:
    """Settings for a CLI process: the test's SQLite file and the running sandbox."""
    return clean_environment(
        DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}",
        ZENODO_EXPORT_DATA_DIR=str(tmp_path / "data"),
        ZENODO_URL=sandbox.api_url,
        ZENODO_TOKEN=sandbox.token,
        ZENODO_EXPORT_RETRY_DELAY_SCALE="0",
        ZENODO_EXPORT_POLL_INTERVAL="0.1",
        **extra,
    )


Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def cli_env(sandbox: Any, tmp_path: Path) -> dict[str, str]:
    """The environment CLI processes of this test run in."""
    return sandbox_environment(sandbox, tmp_path)


@pytest.fixture
def run_cli(cli_env: dict[str, str], tmp_path: Path) -> Run:
    """Run ``zenodo-export ARGS...`` and return the finished process (text output)."""

    def run(
        *args: str, env: dict[str, str] | None = None, timeout: float = 120, **kwargs: Any
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*CLI, *args],
            env=env or cli_env,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=tmp_path,
            **kwargs,
        )

    return run
