"""The ``worker`` command: run queued exports until stopped (or idle, with --burst)."""

from __future__ import annotations

import logging
import signal
from types import FrameType
from typing import Annotated

import typer

from zenodo_export.cli.app import app
from zenodo_export.cli.context import opened_store, require_token, settings
from zenodo_export.exports.kinds import schedule_janitor
from zenodo_export.filestore import files_store
from zenodo_export.jobs.outage import Outage
from zenodo_export.jobs.worker import Worker
from zenodo_export.kinds import job_runner
from zenodo_export.logs import configure_logging, secrets_of
from zenodo_export.schedules.configured import schedule_ticks
from zenodo_export.settings import LogFormat

log = logging.getLogger("zenodo_export.cli")


@app.command("worker")
def worker_command(
    concurrency: Annotated[int, typer.Option(min=1, help="Exports run at the same time.")] = 1,
    burst: Annotated[bool, typer.Option("--burst", help="Exit when no job is ready.")] = False,
    grace: Annotated[
        float | None,
        typer.Option(
            help="Seconds running exports get to finish after SIGTERM before their "
            "jobs are released [default: the lease length]."
        ),
    ] = None,
    log_format: Annotated[
        LogFormat | None,
        typer.Option(
            "--log-format",
            help="How to log on stderr: text lines, or json (one object per line) "
            "[default: ZENODO_EXPORT_LOG_FORMAT, else text].",
        ),
    ] = None,
    queues: Annotated[
        list[str] | None,
        typer.Option(
            "--queue",
            help="A queue to take jobs from, repeatable [default: 'default' and this "
            "machine's 'host:NAME', where exports whose files are in place wait].",
        ),
    ] = None,
) -> None:
    """Run queued exports. Many workers on many machines may share one database."""
    config = settings()
    require_token(config, "the worker needs it")
    configure_logging(
        level=config.log_level,
        fmt=log_format or config.log_format,
        secrets=secrets_of(config),
    )
    files_store(config).probe()  # a worker that cannot read the files store would fail jobs
    with opened_store(config, migrate=False) as store:
        # A worker started during a database outage waits for the database, as it would later.
        outage = Outage()
        outage.call(store.migrate)
        outage.call(lambda: schedule_janitor(store, config))
        worker = Worker(
            job_runner(store, config),
            concurrency=concurrency,
            burst=burst,
            ticks=schedule_ticks(store, config),
            queues=queues or None,
        )

        def on_term(signum: int, frame: FrameType | None) -> None:
            log.warning("stopping: running exports finish, no new ones start")
            worker.stop()

        signal.signal(signal.SIGTERM, on_term)
        signal.signal(signal.SIGINT, on_term)
        tally = worker.run(grace=grace)
    if tally.counts:
        summary = ", ".join(f"{n} {result}" for result, n in sorted(tally.counts.items()))
        log.info("jobs by outcome: %s", summary)
