"""Every failure ends as Lagotto's did, but better: failed_at, an alert with its backtrace."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.pipeline.conftest import add_fault, all_depositions, make_settings, queue, run_burst
from zenodo_export.jobs import list_jobs
from zenodo_export.settings import Settings
from zenodo_export.store import Store, get_export, list_alerts


def alerts_of(store: Store, export_id: int) -> list[Any]:
    with store.transaction() as session:
        found = list_alerts(session, export_id=export_id)
        for alert in found:
            session.expunge(alert)
        return found


def test_missing_file_fails_at_once_with_an_alert_and_no_network_call(
    store: Store, settings: Settings, sandbox: Any, make_file: Any
) -> None:
    """A file gone before the upload: failed, alert with backtrace, no retry, no deposition."""
    path = make_file("gone.csv")
    export_id = queue(store, [path])
    path.unlink()
    assert run_burst(store, settings).counts == {"failed": 1}
    with store.transaction() as session:
        export = get_export(session, export_id)
        assert export.state == "failed" and export.attempts == 1
        assert export.finished_exporting_at is None  # a failure keeps when it started
        assert "does not exist" in (export.last_error or "")
        assert [j.status for j in list_jobs(session) if j.kind == "data_export"] == ["failed"]
    [alert] = alerts_of(store, export_id)
    assert alert.class_name.endswith("InvalidExport") and "gone.csv" in alert.message
    assert "Traceback" in alert.backtrace and "_checked_size" in alert.backtrace
    assert alert.hostname and not alert.resolved
    assert all_depositions(sandbox) == []


def test_transient_errors_retry_and_only_the_last_attempt_alerts(
    store: Store, sandbox: Any, tmp_path: Path, make_file: Any
) -> None:
    """502s are retried; the export fails, with one alert, only when attempts run out."""
    add_fault(
        sandbox, method="POST", path=r"/deposit/depositions$", action="fail", status=502, times=5
    )
    config = make_settings(sandbox, tmp_path, max_attempts=2)
    export_id = queue(store, [make_file("a.csv")])
    assert run_burst(store, config).counts == {"retry": 1, "failed": 1}
    with store.transaction() as session:
        export = get_export(session, export_id)
        assert export.state == "failed" and export.attempts == 2
        assert "502" in (export.last_error or "")
    [alert] = alerts_of(store, export_id)
    assert alert.class_name.endswith("Transient") and "Bad Gateway" in alert.message


def test_transient_error_then_success_leaves_no_alert(
    sqlite_store: Store, settings: Settings, sandbox: Any, make_file: Any
) -> None:
    """A retry that succeeds clears the failure: done, no alert, failed_at empty."""
    add_fault(
        sandbox, method="POST", path=r"/deposit/depositions$", action="fail", status=504, times=1
    )
    export_id = queue(sqlite_store, [make_file("a.csv")])
    assert run_burst(sqlite_store, settings).counts == {"retry": 1, "done": 1}
    with sqlite_store.transaction() as session:
        export = get_export(session, export_id)
        assert export.state == "done" and export.failed_at is None and export.last_error is None
    assert alerts_of(sqlite_store, export_id) == []


def test_wrong_token_fails_without_retry_and_is_never_stored(
    sqlite_store: Store, sqlite_url: str, sandbox: Any, tmp_path: Path, make_file: Any
) -> None:
    """A refused token: failed at once, alert hints at scopes, the token is nowhere stored."""
    secret = "wrong-token-0123456789abcdef"
    config = make_settings(sandbox, tmp_path, zenodo_token=secret)
    export_id = queue(sqlite_store, [make_file("a.csv")])
    assert run_burst(sqlite_store, config).counts == {"failed": 1}
    [alert] = alerts_of(sqlite_store, export_id)
    assert alert.class_name.endswith("AuthRejected") and "deposit:actions" in alert.message
    sqlite_store.dispose()
    database = Path(sqlite_url.removeprefix("sqlite:///"))
    for path in database.parent.glob(database.name + "*"):
        assert secret.encode() not in path.read_bytes()


def test_token_without_publish_scope_fails_at_publish_with_a_hint(
    sqlite_store: Store, sandbox_factory: Any, tmp_path: Path, make_file: Any
) -> None:
    """A deposit:write-only token can create and upload but not publish: failed, clear hint."""
    limited = sandbox_factory(tokens=["writer:deposit:write"])
    config = make_settings(limited, tmp_path)
    export_id = queue(sqlite_store, [make_file("a.csv")])
    assert run_burst(sqlite_store, config).counts == {"failed": 1}
    with sqlite_store.transaction() as session:
        export = get_export(session, export_id)
        assert export.deposition_id is not None
        assert "403" in (export.last_error or "") and "deposit:actions" in export.last_error


def test_deposition_deleted_on_zenodo_mid_export_fails_clearly(
    sqlite_store: Store, settings: Settings, sandbox: Any, make_file: Any
) -> None:
    """A draft deleted on Zenodo between attempts: failed with a message saying so."""
    import httpx

    add_fault(sandbox, method="POST", path=r"/actions/publish$", action="fail", status=502, times=1)
    slow = settings.model_copy(update={"retry_delay_scale": 0.05, "retry_base_seconds": 0})
    export_id = queue(sqlite_store, [make_file("a.csv")])
    assert run_burst(sqlite_store, slow, seed=0).counts == {"retry": 1}
    with sqlite_store.transaction() as session:
        deposition_id = get_export(session, export_id).deposition_id
    token = settings.zenodo_token.get_secret_value()
    httpx.delete(
        f"{sandbox.api_url}deposit/depositions/{deposition_id}",
        headers={"Authorization": f"Bearer {token}"},
    ).raise_for_status()
    import time

    time.sleep(0.8)
    assert run_burst(sqlite_store, slow).counts == {"failed": 1}
    with sqlite_store.transaction() as session:
        assert "no longer exists" in (get_export(session, export_id).last_error or "")


def test_rate_limit_postpones_without_using_an_attempt(
    sqlite_store: Store, sandbox: Any, tmp_path: Path, make_file: Any
) -> None:
    """A 429 with Retry-After postpones the job; the attempt is given back."""
    add_fault(
        sandbox,
        method="POST",
        path=r"/deposit/depositions$",
        action="fail",
        status=429,
        retry_after=0,
        times=3,
    )
    config = make_settings(sandbox, tmp_path, max_attempts=1)
    export_id = queue(sqlite_store, [make_file("a.csv")])
    assert run_burst(sqlite_store, config).counts == {"postpone": 3, "done": 1}
    with sqlite_store.transaction() as session:
        assert get_export(session, export_id).state == "done"


def test_a_bad_export_fails_alone_and_the_worker_goes_on(
    store: Store, settings: Settings, sandbox: Any, make_file: Any
) -> None:
    """An unknown license is refused by Zenodo: that export fails, the next one is published."""
    bad = queue(store, [make_file("a.csv")], license="cc-by-9999")
    good = queue(store, [make_file("b.csv")], name="other")
    assert run_burst(store, settings).counts == {"failed": 1, "done": 1}
    with store.transaction() as session:
        assert get_export(session, good).state == "done"
        failed = get_export(session, bad)
        assert failed.state == "failed" and "metadata.license" in (failed.last_error or "")
    [alert] = alerts_of(store, bad)
    assert "cc-by-9999" in alert.message


def test_retry_after_exhausted_attempts_resumes_the_same_draft(
    sqlite_store: Store, sandbox: Any, tmp_path: Path, make_file: Any
) -> None:
    """Retries run out at publish: failed with an alert; `retry` finishes the same draft."""
    from zenodo_export.exports.service import retry_export

    add_fault(sandbox, method="POST", path=r"/actions/publish$", action="fail", status=502, times=2)
    config = make_settings(sandbox, tmp_path, max_attempts=2, settle_seconds=0.2)
    export_id = queue(sqlite_store, [make_file("a.csv")])
    assert run_burst(sqlite_store, config).counts == {"retry": 1, "failed": 1}
    with sqlite_store.transaction() as session:
        export = get_export(session, export_id)
        deposition_id, uploads = export.deposition_id, dict(export.uploads)
        assert export.state == "failed" and deposition_id is not None
    assert len(alerts_of(sqlite_store, export_id)) == 1
    retry_export(sqlite_store, export_id)
    assert run_burst(sqlite_store, config).counts == {"done": 1}
    with sqlite_store.transaction() as session:
        export = get_export(session, export_id)
        assert export.state == "done" and export.deposition_id == deposition_id
        assert export.uploads == uploads  # nothing uploaded twice
    assert len(all_depositions(sandbox)) == 1
