"""Fixtures for pipeline tests: a real store, real files, settings pointing at the sandbox."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from zenodo_export.exports.kinds import schedule_janitor
from zenodo_export.exports.service import create_and_queue
from zenodo_export.jobs import JobRunner, Tally, Worker
from zenodo_export.kinds import default_registry
from zenodo_export.settings import Settings
from zenodo_export.store import Store


def make_settings(sandbox: Any, tmp_path: Path, **overrides: Any) -> Settings:
    """Settings pointing at the running sandbox, with test-friendly retries."""
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "zenodo_url": sandbox.api_url,
        "zenodo_token": sandbox.token,
        "retry_delay_scale": 0.0,
        "max_attempts": 3,
        "lease_seconds": 30.0,
        "poll_interval": 0.05,
        "http_timeout": 10.0,
        "settle_seconds": 1.0,
        "defer_seconds": 0.2,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings(sandbox: Any, tmp_path: Path) -> Settings:
    """Settings pointing at the test's sandbox."""
    return make_settings(sandbox, tmp_path)


@pytest.fixture
def make_file(tmp_path: Path) -> Callable[..., Path]:
    """Write a real file of a given size (or text) and return its path."""

    def write(name: str, content: bytes | str | None = None, *, size: int = 1000) -> Path:
        path = tmp_path / "files" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if content is None:
            content = bytes((n * 7 + len(name)) % 256 for n in range(size))
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return path

    return write


def seed_attributes(files: list[Path], **overrides: Any) -> dict[str, Any]:
    """The seed's example attributes, with real files."""
    attributes: dict[str, Any] = {
        "name": "alm_combined_stats_report",
        "files": [str(path) for path in files],
        "publication_date": dt.date(2026, 10, 10),
        "title": "Cumulative PLOS ALM Report - October 2026",
        "description": "Cumulative stats for all works through 2026-10-10.",
        "creators": ["Lin, Jennifer"],
        "keywords": ["alm", "article-level metrics"],
        "code_repository_url": "https://github.com/lagotto/lagotto",
    }
    attributes.update(overrides)
    return attributes


def queue(store: Store, files: list[Path], **overrides: Any) -> int:
    """Create and queue an export of ``files``; return its id."""
    return create_and_queue(store, **seed_attributes(files, **overrides))


def run_burst(
    store: Store, settings: Settings, *, concurrency: int = 1, seed: int | None = None
) -> Tally:
    """Run a burst worker in this process until no job is ready (``seed`` fixes the jitter).

    Like the worker command, it first makes sure the janitor's next run is queued.
    """
    schedule_janitor(store, settings)
    rng = random.Random(seed) if seed is not None else None
    runner = JobRunner(store, settings, default_registry(), rng=rng)
    return Worker(runner, concurrency=concurrency, burst=True).run()


def add_fault(sandbox: Any, **rule: Any) -> None:
    """Add a fault rule to the running sandbox through its admin endpoint."""
    import httpx

    response = httpx.post(f"{sandbox.base_url}/_sandbox/faults", json=rule)
    response.raise_for_status()


def all_depositions(sandbox: Any) -> list[dict[str, Any]]:
    """Return every deposition the sandbox holds, of every user."""
    import httpx

    response = httpx.get(f"{sandbox.base_url}/_sandbox/depositions")
    response.raise_for_status()
    body = response.json()
    return list(body["depositions"] if isinstance(body, dict) else body)
