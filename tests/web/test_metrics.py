"""``/metrics`` over real HTTP: Prometheus' text, read from the database at scrape time, so
that real exports, alerts and workers show, and every ``serve`` process says the same."""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.fixtures.cli import StartWorker
from tests.fixtures.web import Served, ServeFactory, start_serve, stop

EXPORT = ["--title", "T", "--description", "D", "--keyword", "k", "--creator", "Doe, Jane",
          "--code-repository-url", "https://github.com/example/tool"]  # fmt: skip
STATES = ("pending", "processing", "done", "failed")

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(base_url: str, token: str) -> Samples:
    """Scrape ``/metrics`` with a bearer token; return every sample by name and labels."""
    answer = httpx.get(
        f"{base_url}/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def value(samples: Samples, metric: str, /, **labels: str) -> float:
    """The value of one sample."""
    return samples[(metric, frozenset(labels.items()))]


def export(served: Served, name: str, *options: str) -> int:
    """Create an export of a new small file with the real CLI; return its id."""
    path = served.cwd / f"{name}.csv"
    path.write_text(f"{name}\n")
    made = served.cli("export", str(path), "--name", name, *EXPORT, *options)
    assert made.returncode == 0, made.stderr
    return int(made.stdout)


def test_metrics_need_a_token(served: Served) -> None:
    """Without a token, or with a wrong one, 401 in the API's JSON shape; a viewer reads them."""
    for headers in ({}, {"Authorization": "Bearer zx_wrong"}):
        refused = served.client().get("/metrics", headers=headers)
        assert refused.status_code == 401
        assert refused.json()["error"]["status"] == 401
    samples = scrape(served.base_url, served.viewer_token)
    assert value(samples, "zenodo_export_up") == 1
    openmetrics = served.viewer.get(
        "/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"}
    )
    assert openmetrics.headers["content-type"].startswith("application/openmetrics-text")
    assert openmetrics.text.endswith("# EOF\n")


def test_an_empty_database_reports_zeros(served: Served) -> None:
    """Every state is there at zero; nothing waits, nobody works, nothing is unresolved."""
    samples = scrape(served.base_url, served.viewer_token)
    for state in STATES:
        assert value(samples, "zenodo_export_exports", state=state) == 0
    assert value(samples, "zenodo_export_jobs", kind="data_export", state="queued") == 0
    assert value(samples, "zenodo_export_oldest_waiting_job_seconds") == 0
    assert value(samples, "zenodo_export_alerts_unresolved") == 0
    assert value(samples, "zenodo_export_workers_alive") == 0
    assert not [key for key in samples if key[0].startswith("zenodo_export_last_success")]


def test_counts_follow_real_exports_and_every_server_agrees(served_on: Served) -> None:
    """A published, a failed (with its alert) and a queued export, made by the real CLI and a
    real worker, show in the counts; a second ``serve`` on the database reports the same."""
    done_id = export(served_on, "monthly")
    failing = served_on.cwd / "failing.csv"
    failing.write_text("gone\n")
    made = served_on.cli("export", str(failing), "--in-place", "--name", "failing", *EXPORT)
    assert made.returncode == 0, made.stderr
    failing.unlink()
    assert served_on.cli("worker", "--burst").returncode == 0
    export(served_on, "later")
    time.sleep(1.1)  # the queued job has waited a second at least

    samples = scrape(served_on.base_url, served_on.viewer_token)
    counts = {state: value(samples, "zenodo_export_exports", state=state) for state in STATES}
    assert counts == {"pending": 1, "processing": 0, "done": 1, "failed": 1}
    jobs = {
        dict(labels)["state"]: got
        for (name, labels), got in samples.items()
        if name == "zenodo_export_jobs" and dict(labels)["kind"] == "data_export"
    }
    assert jobs == {"queued": 1, "running": 0, "done": 1, "failed": 1}
    assert value(samples, "zenodo_export_oldest_waiting_job_seconds") >= 1
    assert value(samples, "zenodo_export_alerts_unresolved") == 1
    shown = json.loads(served_on.cli("show", str(done_id), "--json").stdout)
    finished = value(
        samples, "zenodo_export_last_success_timestamp_seconds",
        type="ZenodoDataExport", name="monthly",
    )  # fmt: skip
    assert abs(finished - datetime.fromisoformat(shown["finished_exporting_at"]).timestamp()) < 1
    assert not [key for key in samples if ("name", "failing") in key[1]], "never published"

    second_cwd = served_on.cwd / "second"
    second_cwd.mkdir()
    process, second = start_serve(served_on.env, second_cwd)
    try:
        assert second != served_on.base_url
        first, other = (
            scrape(base, served_on.viewer_token) for base in (served_on.base_url, second)
        )
    finally:
        stop(process)
    waited = "zenodo_export_oldest_waiting_job_seconds"
    assert {k: v for k, v in first.items() if k[0] != waited} == {
        k: v for k, v in other.items() if k[0] != waited
    }
    assert abs(value(first, waited) - value(other, waited)) < 30


def test_a_running_worker_is_counted_alive_until_it_stops(
    served: Served, start_worker: StartWorker
) -> None:
    """A worker process writes its presence: counted alive while it runs, gone once stopped."""
    worker = start_worker(served.env, "--queue", "nothing-here")
    try:
        deadline = time.monotonic() + 60
        alive = 0.0
        while time.monotonic() < deadline and alive != 1:
            alive = value(
                scrape(served.base_url, served.viewer_token), "zenodo_export_workers_alive"
            )
            time.sleep(0.3)
        assert alive == 1
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    samples = scrape(served.base_url, served.viewer_token)
    assert value(samples, "zenodo_export_workers_alive") == 0


def test_a_database_outage_is_one_line_503(
    serve_factory: ServeFactory, postgres_proxy: tuple[Any, str]
) -> None:
    """With PostgreSQL unreachable a scrape answers 503 with one line of text, then recovers."""
    proxy, through = postgres_proxy
    served = serve_factory(through)
    assert value(scrape(served.base_url, served.viewer_token), "zenodo_export_up") == 1
    cut = proxy.cut_in_background(6)
    try:
        answer = served.viewer.get("/metrics")
        assert answer.status_code == 503
        assert answer.headers["content-type"].startswith("text/plain")
        [line] = answer.text.strip().splitlines()
        assert "database" in line and "Traceback" not in answer.text
    finally:
        cut.join()
    assert value(scrape(served.base_url, served.viewer_token), "zenodo_export_up") == 1
