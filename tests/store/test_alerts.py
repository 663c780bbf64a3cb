"""Alerts: what is recorded from an exception, scrubbing secrets, listing and resolving."""

from __future__ import annotations

import socket
from collections.abc import Sequence

import pytest

from tests.fixtures.exports import Attributes
from zenodo_export.errors import NotFound, Transient
from zenodo_export.store import (
    Alert,
    AlertLevel,
    Store,
    ZenodoDataExport,
    list_alerts,
    record_alert,
    resolve_alert,
)

TOKEN = "s3cr3t-zenodo-token-0123456789"


def _upload_bucket() -> None:
    try:
        raise ConnectionError(f"connection reset while sending to ?access_token={TOKEN}")
    except ConnectionError as exc:
        raise Transient("upload of alm_report.zip interrupted") from exc


def _raised() -> BaseException:
    try:
        _upload_bucket()
    except Transient as exc:
        return exc
    raise AssertionError("nothing raised")


def _record(
    store: Store,
    exc: BaseException,
    *,
    export_id: int | None = None,
    level: AlertLevel = "ERROR",
    secrets: Sequence[str] = (),
) -> str:
    with store.transaction() as session:
        alert = record_alert(session, exc, export_id=export_id, level=level, secrets=secrets)
        return alert.uuid


def _alert(store: Store, uuid: str) -> Alert:
    with store.transaction() as session:
        (alert,) = [a for a in list_alerts(session, include_resolved=True) if a.uuid == uuid]
        return alert


def test_alert_keeps_class_message_backtrace_and_host(store: Store) -> None:
    """An alert holds the class, message, host and a backtrace naming the raising function."""
    alert = _alert(store, _record(store, _raised()))
    assert alert.class_name == "zenodo_export.errors.Transient"
    assert alert.message == "upload of alm_report.zip interrupted"
    assert alert.level == "ERROR"
    assert alert.hostname == socket.gethostname()
    assert alert.backtrace is not None
    assert "in _upload_bucket" in alert.backtrace
    assert "ConnectionError: connection reset" in alert.backtrace, "the chained cause is kept"
    assert (alert.resolved, alert.resolved_at) == (False, None)
    assert alert.created_at.tzinfo is not None


def test_builtin_class_names_are_unqualified(store: Store) -> None:
    """A builtin exception is recorded by its bare class name, at the level asked for."""
    alert = _alert(store, _record(store, KeyError("files"), level="FATAL"))
    assert (alert.class_name, alert.message, alert.level) == ("KeyError", "'files'", "FATAL")


def test_secrets_never_reach_the_database(store: Store) -> None:
    """Every secret given is replaced by *** in the message and the backtrace."""
    exc = RuntimeError(f"bad token {TOKEN}")
    exc.__cause__ = _raised()
    alert = _alert(store, _record(store, exc, secrets=[TOKEN, ""]))
    assert alert.message == "bad token ***"
    assert alert.backtrace is not None and TOKEN not in alert.backtrace
    assert "access_token=***" in alert.backtrace


def test_list_and_resolve(store: Store, attributes: Attributes) -> None:
    """Alerts are listed newest first; a resolved one is hidden unless asked for."""
    with store.transaction() as session:
        export_id = ZenodoDataExport.create(session, **attributes()).id
    first = _record(store, ValueError("one"), export_id=export_id)
    second = _record(store, ValueError("two"))
    with store.transaction() as session:
        assert [a.uuid for a in list_alerts(session)] == [second, first]
        assert [a.uuid for a in list_alerts(session, export_id=export_id)] == [first]
        resolved = resolve_alert(session, first)
        assert resolved.resolved and resolved.resolved_at is not None
    with store.transaction() as session:
        assert [a.uuid for a in list_alerts(session)] == [second]
        assert [a.uuid for a in list_alerts(session, include_resolved=True)] == [second, first]
        assert [a.uuid for a in list_alerts(session, include_resolved=True, limit=1)] == [second]


def test_alert_outlives_its_export(store: Store, attributes: Attributes) -> None:
    """Deleting an export keeps its alerts, detached from it."""
    with store.transaction() as session:
        export_id = ZenodoDataExport.create(session, **attributes()).id
    uuid = _record(store, ValueError("kept"), export_id=export_id)
    with store.transaction() as session:
        session.delete(session.get(ZenodoDataExport, export_id))
    assert _alert(store, uuid).export_id is None


def test_resolving_an_unknown_alert_is_not_found(store: Store) -> None:
    """Resolving a uuid no alert has raises NotFound naming it."""
    with pytest.raises(NotFound, match="alert nope does not exist"), store.transaction() as s:
        resolve_alert(s, "nope")
