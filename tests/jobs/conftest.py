"""Fixtures of the job runtime tests: settings for a runner."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from zenodo_export.settings import Settings

MakeSettings = Callable[..., Settings]


@pytest.fixture
def make_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MakeSettings:
    """Return a factory of settings that ignore the developer's shell (no ``ZENODO_*``)."""
    for name in list(os.environ):
        if name.startswith("ZENODO_") or name == "DATABASE_URL":
            monkeypatch.delenv(name)

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "data_dir": tmp_path / "data",
            "max_attempts": 3,
            "retry_delay_scale": 0.0,
            "lease_seconds": 30.0,
            "poll_interval": 0.05,
        }
        values.update(overrides)
        return Settings(**values)

    return make


@pytest.fixture
def settings(make_settings: MakeSettings) -> Settings:
    """Settings for a runner: three attempts, no retry delay, a 30 s lease."""
    return make_settings()
