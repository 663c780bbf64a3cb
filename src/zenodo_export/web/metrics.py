"""``/metrics`` in Prometheus' text format, read from the database at scrape time.

Nothing is counted in the process: a collector on the app's own registry asks the database
(``web/stats.py``, one transaction, a handful of aggregate queries) on every scrape, so every
``serve`` process reports the same numbers, and a restart loses none.

* ``zenodo_export_up`` 1 when the database answered;
* ``zenodo_export_exports{state}``, every state, zeros included;
* ``zenodo_export_jobs{kind,state}``, every status of every kind registered or seen;
* ``zenodo_export_oldest_waiting_job_seconds`` (0 with nothing waiting);
* ``zenodo_export_alerts_unresolved``, ``zenodo_export_workers_alive``;
* ``zenodo_export_last_success_timestamp_seconds{type,name}``: a snapshot and its upload share
  a name, so ``type`` tells them apart.

The text format is 0.0.4 unless the scraper asks for another (OpenMetrics, text 1.0.0), as
``prometheus_client`` negotiates it. Access: a viewer's bearer token, as for the API (a 401
in the API's JSON shape without one). A database outage is a 503 with one line of plain text.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector, CollectorRegistry

from zenodo_export.clock import utcnow
from zenodo_export.errors import Transient
from zenodo_export.store import Store
from zenodo_export.store.models import JOB_STATUSES
from zenodo_export.web import stats
from zenodo_export.web.access import api_caller
from zenodo_export.web.context import WebState

router = APIRouter()

_registry_lock = threading.Lock()


@dataclass(frozen=True)
class Reading:
    """Everything one scrape shows, read in one transaction."""

    exports: dict[str, int]
    jobs: dict[tuple[str, str], int]
    kinds: tuple[str, ...]
    oldest_waiting_seconds: float
    alerts_unresolved: int
    workers_alive: int
    last_successes: list[stats.LastSuccess]


def read(store: Store, kinds: tuple[str, ...], now: dt.datetime | None = None) -> Reading:
    """Read the numbers from the database now (``Transient`` when it does not answer)."""
    now = now or utcnow()
    with store.transaction() as session:
        oldest = stats.oldest_waiting(session, now)
        return Reading(
            exports=stats.exports_by_state(session),
            jobs=stats.jobs_by_kind_and_status(session),
            kinds=kinds,
            oldest_waiting_seconds=0.0 if oldest is None else oldest.seconds(now),
            alerts_unresolved=stats.unresolved_alerts(session),
            workers_alive=stats.workers_alive(session),
            last_successes=stats.last_successes(session),
        )


def families(reading: Reading) -> Iterator[Metric]:
    """Turn a reading into metric families."""
    yield GaugeMetricFamily("zenodo_export_up", "1 when the database answered the scrape.", 1)
    exports = GaugeMetricFamily("zenodo_export_exports", "Exports in each state.", labels=["state"])
    for state, count in reading.exports.items():
        exports.add_metric([state], count)
    yield exports
    jobs = GaugeMetricFamily(
        "zenodo_export_jobs", "Jobs of each kind in each state.", labels=["kind", "state"]
    )
    for kind in sorted({*reading.kinds, *(kind for kind, _ in reading.jobs)}):
        for status in JOB_STATUSES:
            jobs.add_metric([kind, status], reading.jobs.get((kind, status), 0))
    yield jobs
    yield GaugeMetricFamily(
        "zenodo_export_oldest_waiting_job_seconds",
        "How long the queued job ready the longest has waited for a worker (0: none waits).",
        reading.oldest_waiting_seconds,
    )
    yield GaugeMetricFamily(
        "zenodo_export_alerts_unresolved", "Alerts nobody has resolved.", reading.alerts_unresolved
    )
    yield GaugeMetricFamily(
        "zenodo_export_workers_alive",
        "Workers heard from lately that have not stopped.",
        reading.workers_alive,
    )
    last = GaugeMetricFamily(
        "zenodo_export_last_success_timestamp_seconds",
        "When the newest published export of each type and name finished (Unix time).",
        labels=["type", "name"],
    )
    for success in reading.last_successes:
        last.add_metric([success.type, success.name], success.finished_at.timestamp())
    yield last


class DatabaseCollector(Collector):
    """Collect the numbers from the database on every scrape."""

    def __init__(self, store: Store) -> None:
        from zenodo_export.kinds import default_registry

        self.store = store
        self.kinds = default_registry().names()

    def describe(self) -> Iterable[Metric]:
        """Describe nothing ahead: registering must not read the database."""
        return []

    def collect(self) -> Iterable[Metric]:
        """Read the database and return the families (``Transient`` on an outage)."""
        return list(families(read(self.store, self.kinds)))


def registry_of(request: Request, store: Store) -> CollectorRegistry:
    """The app's own registry, holding only its database collector (made on first scrape)."""
    state = request.app.state
    with _registry_lock:
        registry: CollectorRegistry | None = getattr(state, "metrics_registry", None)
        if registry is None:
            registry = CollectorRegistry(auto_describe=False)
            registry.register(DatabaseCollector(store))
            state.metrics_registry = registry
    return registry


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request, web: WebState) -> Response:
    """The numbers in Prometheus' text format; a viewer token is needed."""
    try:
        with web.store.transaction() as session:
            api_caller(request, session)
        encode, content_type = choose_encoder(request.headers.get("accept", ""))
        body = encode(registry_of(request, web.store))
    except Transient as exc:
        line = " ".join(str(exc).split())
        return PlainTextResponse(f"{line}\n", status_code=503, headers={"Retry-After": "5"})
    return Response(body, media_type=content_type)
