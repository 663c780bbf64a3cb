"""Two runs of one report on one day: each record holds the data of its own run.

The second run rewrites the same zip path on disk; the first run's export was staged before
that, so a worker started after both publishes each run as it was.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from tests.pipeline.conftest import run_burst
from tests.reports.conftest import report_config, report_settings, write_config
from tests.reports.test_run import stats_run
from zenodo_export.reports import run_report
from zenodo_export.store import Store, get_export


def published_csv(sandbox: Any, record_id: int) -> str:
    """Return the stats CSV inside the zip the record ``record_id`` published."""
    base = f"{sandbox.api_url}records/{record_id}"
    [entry] = httpx.get(f"{base}/files").raise_for_status().json()["entries"]
    content = httpx.get(f"{base}/files/{entry['key']}/content").raise_for_status().content
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return archive.read("stats.csv").decode()


def set_counter(url: str, total: int) -> None:
    """Change the first work's counter total in the reported database."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE events SET total = :t WHERE id = 1"), {"t": total})
    finally:
        engine.dispose()


def test_two_runs_of_one_day_publish_their_own_data(
    store: Store, works_url: str, sandbox: Any, tmp_path: Path
) -> None:
    """Table changed between the runs, worker after both: two records, two different CSVs."""
    settings = report_settings(sandbox, tmp_path, write_config(tmp_path, report_config(works_url)))
    set_counter(works_url, 111)
    first = run_report(store, settings, stats_run(settings))
    set_counter(works_url, 222)
    second = run_report(store, settings, stats_run(settings))
    assert first != second

    assert run_burst(store, settings).counts.get("done") == 2
    with store.transaction() as session:
        records = [get_export(session, export_id).record_id for export_id in (first, second)]
    assert all(records), "both runs were published"
    first_csv, second_csv = (published_csv(sandbox, record) for record in records)  # type: ignore[arg-type]
    assert ",111," in first_csv and ",222," not in first_csv
    assert ",222," in second_csv and ",111," not in second_csv
