"""``/api/v1/schedules``: the config file's schedules with their last and next runs; run one."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Path
from sqlalchemy.orm import Session

from zenodo_export.clock import utcnow
from zenodo_export.config_file import load_config_file
from zenodo_export.errors import NotFound
from zenodo_export.schedules import Schedule, schedule_state
from zenodo_export.schedules.configured import all_schedules
from zenodo_export.web.access import Viewer
from zenodo_export.web.api.deps import Acting
from zenodo_export.web.api.exports import read
from zenodo_export.web.api.models import ExportPublic, SchedulePublic
from zenodo_export.web.api.runs import start_report, start_snapshot_entry
from zenodo_export.web.context import Db, WebState

router = APIRouter(prefix="/schedules", tags=["schedules"])

ScheduleName = Annotated[
    str, Path(max_length=300, description="The schedule's name (reports.NAME, snapshots.NAME).")
]


def schedule_public(session: Session, schedule: Schedule, now: dt.datetime) -> SchedulePublic:
    """Return a schedule as ``zenodo-export schedule list --json`` prints it."""
    state = asdict(schedule_state(session, schedule, now))
    del state["missed"]
    return SchedulePublic.model_validate(state)


@router.get("", summary="List the schedules of the config file")
def list_schedules(db: Db, web: WebState, _: Viewer) -> list[SchedulePublic]:
    """Each schedule: its target and rule, the last period it ran and its export, its next run."""
    now = utcnow()
    return [schedule_public(db, s, now) for s in all_schedules(load_config_file(web.settings))]


@router.post("/{name}/run", status_code=201, summary="Run a schedule's target now")
def run_schedule(name: ScheduleName, web: WebState, _: Acting) -> ExportPublic:
    """Run the report or start the snapshot now, as its command would; its periods stay as
    they are (the schedule still fires when due)."""
    config_file = load_config_file(web.settings)
    schedules = {schedule.name: schedule for schedule in all_schedules(config_file)}
    schedule = schedules.get(name)
    if schedule is None:
        known = ", ".join(sorted(schedules)) or "none"
        raise NotFound(f"schedule {name!r} is not in {config_file.path} (schedules: {known})")
    start = start_report if name.startswith("reports.") else start_snapshot_entry
    return read(web.store, start(web, config_file, schedule.target))
