"""Fixtures of the store tests: a migrated store on each backend and valid export attributes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

Attributes = Callable[..., dict[str, Any]]


@pytest.fixture
def attributes(tmp_path: Path) -> Attributes:
    """Return a factory of valid export attributes whose files exist on disk."""

    def make(**overrides: Any) -> dict[str, Any]:
        report = tmp_path / "alm_report.zip"
        report.write_bytes(b"PK report")
        base: dict[str, Any] = {
            "name": "alm_combined_stats_report",
            "files": [str(report)],
            "publication_date": dt.date(2015, 5, 10),
            "title": "Cumulative PLOS ALM Report - May 2015",
            "description": "Cumulative stats for all works through 2015-05-10.",
            "creators": ["Jane Doe"],
            "keywords": ["alm", "plos"],
            "code_repository_url": "https://github.com/lagotto/lagotto",
        }
        return {**base, **overrides}

    return make
