"""/api/v1 schedules, reports, snapshots and the queue over real HTTP; roles; errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.web import Served, ServeFactory
from tests.web.test_api_exports import error, metadata, run_worker

CONFIG = """
[reports.monthly]
files = ["counts.csv"]
schedule = "monthly"

[snapshots.works]
url = "https://api.example.org/works"
schedule = "0 3 * * *"
"""


@pytest.fixture
def configured(serve_factory: ServeFactory, tmp_path: Path, database_url: str) -> Served:
    """``serve`` with a config file holding a report and a snapshot, each scheduled, on each
    backend."""
    folder = tmp_path / "config"
    folder.mkdir()
    (folder / "counts.csv").write_text("month,count\n2026-11,3\n")
    (folder / "config.toml").write_text(CONFIG)
    return serve_factory(
        database_url,
        ZENODO_EXPORT_CONFIG=str(folder / "config.toml"),
        CREATOR="Doe, Jane",
        GITHUB_URL="https://example.org/code",
        SITENAMELONG="Example Site",
    )


def test_schedules_reports_and_snapshots(configured: Served) -> None:
    """Schedules list their rule and next run; reports and snapshots list and start now."""
    viewer, admin = configured.viewer, configured.admin
    schedules = {s["name"]: s for s in viewer.get("/api/v1/schedules").json()}
    assert set(schedules) == {"reports.monthly", "snapshots.works"}
    assert schedules["reports.monthly"]["rule"] == "monthly"
    assert schedules["snapshots.works"]["cron"] == "0 3 * * *"
    assert schedules["snapshots.works"]["last_period"] is None
    assert schedules["snapshots.works"]["next_run"]
    [report] = viewer.get("/api/v1/reports").json()
    assert report == {
        "name": "monthly", "schedule": "monthly", "source": "files", "missing_settings": [],
        "latest": None,
    }  # fmt: skip
    ran = admin.post("/api/v1/reports/monthly/run")
    assert ran.status_code == 201, ran.text
    assert ran.json()["name"] == "monthly" and ran.json()["state"] == "pending"
    assert viewer.get("/api/v1/reports").json()[0]["latest"]["id"] == ran.json()["id"]
    again = admin.post("/api/v1/schedules/reports.monthly/run")
    assert again.status_code == 201 and again.json()["id"] != ran.json()["id"]
    fired = admin.post("/api/v1/schedules/snapshots.works/run")
    assert fired.status_code == 201, fired.text
    assert fired.json()["type"] == "ApiSnapshot"
    assert fired.json()["url"] == "https://api.example.org/works"
    started = admin.post(
        "/api/v1/snapshots", json={"url": "https://api.example.org/items", "pages_per_job": 5}
    )
    assert started.status_code == 201, started.text
    assert started.json()["data"]["pages_per_job"] == 5
    snapshots = viewer.get("/api/v1/snapshots").json()
    assert snapshots["total"] == 2
    assert [s["id"] for s in snapshots["items"]] == [started.json()["id"], fired.json()["id"]]
    assert configured.env["ZENODO_TOKEN"] not in str(snapshots)


def test_runs_refuse_bad_values_and_viewers(configured: Served) -> None:
    """Unknown names are 404 naming the known ones; bad options name their field; viewers and
    callers without a token cannot start anything; nothing is created."""
    viewer, admin = configured.viewer, configured.admin
    assert "monthly" in error(admin.post("/api/v1/reports/yearly/run"), 404)
    assert "snapshots.works" in error(admin.post("/api/v1/schedules/weekly/run"), 404)
    snapshot = "/api/v1/snapshots"
    error(admin.post(snapshot, json={"url": "ftp://example.org/x"}), 400, "url")
    error(admin.post(snapshot, json={"url": "https://e.org/x", "stop_page": 0}), 400, "stop_page")
    error(admin.post(snapshot, json={"url": "https://e.org/x", "concurrency": "many"}), 422,
          "concurrency")  # fmt: skip
    headers = {"url": "https://e.org/x", "headers": {"X-Key": "env:ZENODO_TOKEN"}}
    error(admin.post(snapshot, json=headers), 422, "headers")
    error(admin.post(snapshot, json={}), 422, "url")
    for path in (
        "/api/v1/reports/monthly/run",
        "/api/v1/schedules/reports.monthly/run",
        "/api/v1/snapshots",
    ):
        assert "viewer" in error(viewer.post(path, json={"url": "https://e.org/x"}), 403)
        error(configured.client().post(path, json={"url": "https://e.org/x"}), 401)
    for path in ("/api/v1/schedules", "/api/v1/reports", "/api/v1/snapshots", "/api/v1/queue"):
        error(configured.client().get(path), 401)
    assert viewer.get("/api/v1/exports").json()["total"] == 0
    error(viewer.get(snapshot, params={"state": "lost"}), 422, "state")


def test_a_report_lacking_settings_says_which(serve_factory: ServeFactory, tmp_path: Path) -> None:
    """Without CREATOR, GITHUB_URL and SITENAMELONG a report lists them as missing."""
    (tmp_path / "counts.csv").write_text("a\n1\n")
    (tmp_path / "config.toml").write_text(CONFIG)
    served = serve_factory(ZENODO_EXPORT_CONFIG=str(tmp_path / "config.toml"))
    [report] = served.viewer.get("/api/v1/reports").json()
    assert report["missing_settings"] == ["CREATOR", "GITHUB_URL", "SITENAMELONG"]


def test_queue_counts_jobs_and_shows_workers(served_on: Served) -> None:
    """The queue counts jobs by kind and status, names the oldest waiting, lists workers."""
    served = served_on  # on each backend
    empty = served.viewer.get("/api/v1/queue").json()
    assert empty == {"jobs": [], "ready": 0, "oldest_waiting": None, "workers": []}
    made = served.admin.post(
        "/api/v1/exports/upload", data=metadata(), files=[("files", ("a.csv", b"1,2\n"))]
    ).json()
    queued = served.viewer.get("/api/v1/queue").json()
    assert queued["jobs"] == [{"kind": "data_export", "status": "queued", "count": 1}]
    assert queued["ready"] == 1 and queued["oldest_waiting"]["export_id"] == made["id"]
    assert queued["oldest_waiting"]["age_seconds"] >= 0
    run_worker(served)
    after = served.viewer.get("/api/v1/queue").json()
    assert {"kind": "data_export", "status": "done", "count": 1} in after["jobs"]
    waiting = after["oldest_waiting"]
    assert waiting is None or waiting["kind"] == "janitor", "only the worker's own duty waits"
    [worker] = after["workers"]
    assert worker["alive"] is False and worker["stopped_at"] and worker["last_seen_at"]
    assert worker["pid"] > 0 and worker["hostname"]
