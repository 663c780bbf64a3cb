"""Alerts: a failure with its backtrace, kept for a human to read and resolve."""

from __future__ import annotations

import socket
import traceback
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from zenodo_export.clock import utcnow
from zenodo_export.errors import NotFound
from zenodo_export.redact import scrub
from zenodo_export.store.models import Alert, AlertLevel


def class_name(exc: BaseException) -> str:
    """Return the exception's class name, module-qualified unless it is a builtin."""
    cls = type(exc)
    if cls.__module__ == "builtins":
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


def record_alert(
    session: Session,
    exc: BaseException,
    *,
    export_id: int | None = None,
    level: AlertLevel = "ERROR",
    secrets: Sequence[str] = (),
) -> Alert:
    """Store an alert for ``exc`` with its full backtrace; ``secrets`` never reach the database."""
    alert = Alert(
        class_name=class_name(exc),
        message=scrub(str(exc), secrets),
        backtrace=scrub("".join(traceback.format_exception(exc)), secrets),
        level=level,
        hostname=socket.gethostname(),
        export_id=export_id,
    )
    session.add(alert)
    session.flush()
    return alert


def list_alerts(
    session: Session,
    *,
    include_resolved: bool = False,
    export_id: int | None = None,
    limit: int = 100,
) -> list[Alert]:
    """Return alerts newest first; unresolved ones only unless told otherwise."""
    statement = select(Alert)
    if not include_resolved:
        statement = statement.where(Alert.resolved.is_(False))
    if export_id is not None:
        statement = statement.where(Alert.export_id == export_id)
    statement = statement.order_by(Alert.created_at.desc(), Alert.id.desc()).limit(limit)
    return list(session.scalars(statement).all())


def resolve_alert(session: Session, uuid: str) -> Alert:
    """Mark the alert resolved; ``NotFound`` if no alert has this uuid."""
    alert = session.scalars(select(Alert).where(Alert.uuid == uuid)).first()
    if alert is None:
        raise NotFound(f"alert {uuid} does not exist")
    if not alert.resolved:
        alert.resolved = True
        alert.resolved_at = utcnow()
    return alert


def resolve_alike(session: Session, class_name: str, message: str) -> int:
    """Resolve every unresolved alert of this class and message (a Lagotto group); count them."""
    statement = (
        update(Alert)
        .where(Alert.resolved.is_(False), Alert.class_name == class_name, Alert.message == message)
        .values(resolved=True, resolved_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    result = session.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)
