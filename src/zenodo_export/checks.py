"""``zenodo-export check``: is everything in place to export? Each check says what to fix."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from zenodo_export.config_file import ReportEntry, SnapshotEntry, load_config_file
from zenodo_export.errors import (
    AuthRejected,
    ConfigError,
    Rejected,
    ZenodoExportError,
    ZenodoNotFound,
)
from zenodo_export.filestore import files_store
from zenodo_export.redact import mask_url, scrub
from zenodo_export.reports import missing_settings
from zenodo_export.reports.query import ping, prepare
from zenodo_export.settings import Settings
from zenodo_export.store import Store
from zenodo_export.zenodo.factory import client_factory

Status = Literal["ok", "warn", "fail"]

ECHO_LIMIT = 300
"""Most characters of a server's message shown by ``check``."""


@dataclass(frozen=True)
class CheckResult:
    """One line of the check: what was checked, how it went, and why."""

    name: str
    status: Status
    detail: str


def check_settings(settings: Settings) -> list[CheckResult]:
    """Check the settings an export needs (Lagotto's names are read too)."""
    found = [CheckResult("ZENODO_URL", "ok", settings.zenodo_url)]
    if settings.zenodo_token is None:
        found.append(CheckResult("ZENODO_TOKEN", "fail", "not set (ZENODO_KEY is read too)"))
    else:
        found.append(CheckResult("ZENODO_TOKEN", "ok", "set"))
    needed = needed_settings(settings)
    for name, value in (
        ("CREATOR", settings.creator),
        ("GITHUB_URL", settings.github_url),
        ("SITENAMELONG", settings.sitenamelong),
        ("SERVERNAME", settings.servername),
    ):
        found.append(_lagotto_setting(name, value, needed.get(name, [])))
    return found


def needed_settings(settings: Settings) -> dict[str, list[str]]:
    """Map each unset Lagotto setting to the reports and snapshots that need it."""
    try:
        config_file = load_config_file(settings)
    except ConfigError:
        return {}  # check_config_file reports it
    needed: dict[str, list[str]] = {}
    for name, report in sorted(config_file.reports.items()):
        for setting in missing_settings(report, settings):
            needed.setdefault(setting, []).append(f"report {name}")
    if config_file.snapshots and not settings.servername:
        needed["SERVERNAME"] = [f"snapshot {name}" for name in sorted(config_file.snapshots)]
    return needed


def _lagotto_setting(name: str, value: str | None, users: list[str]) -> CheckResult:
    if value:
        return CheckResult(name, "ok", value)
    if users:
        return CheckResult(name, "fail", f"not set: needed by {', '.join(users)}")
    if name in ("CREATOR", "GITHUB_URL"):
        return CheckResult(name, "warn", "not set: every export must then give it")
    return CheckResult(name, "ok", "not set (nothing configured needs it)")


def check_config_file(settings: Settings) -> list[CheckResult]:
    """Check the config file parses and each report's database answers (or files exist)."""
    try:
        config_file = load_config_file(settings)
    except ConfigError as exc:
        return [CheckResult("config", "fail", str(exc))]
    if not config_file.path.exists():
        return [
            CheckResult("config", "ok", f"{config_file.path} not found: no reports or schedules")
        ]
    schedules = sum(r.schedule is not None for r in config_file.reports.values()) + sum(
        s.schedule is not None for s in config_file.snapshots.values()
    )
    summary = (
        f"{config_file.path}: {len(config_file.reports)} report(s), {schedules} schedule(s), "
        f"{len(config_file.snapshots)} snapshot(s)"
    )
    reports = [
        _check_report(name, config_file.reports[name]) for name in sorted(config_file.reports)
    ]
    snapshots = [
        check_snapshot(name, config_file.snapshots[name]) for name in sorted(config_file.snapshots)
    ]
    return [CheckResult("config", "ok", summary), *reports, *snapshots]


def check_snapshot(name: str, entry: SnapshotEntry) -> CheckResult:
    """Check a snapshot entry's header variables are set; say whether it publishes."""
    label = f"snapshot {name}"
    try:
        entry.header_values()  # read and dropped: never shown
    except ConfigError as exc:
        return CheckResult(label, "fail", str(exc))
    publishes = "uploads to Zenodo when done" if entry.upload else "not uploaded (upload = false)"
    return CheckResult(label, "ok", publishes)


def _check_report(name: str, report: ReportEntry) -> CheckResult:
    label = f"report {name}"
    if report.database_url is None:
        missing = [str(path) for path in report.files if not path.is_file()]
        if missing:
            return CheckResult(label, "warn", f"missing file(s): {', '.join(missing)}")
        return CheckResult(label, "ok", f"{len(report.files)} file(s)")
    try:
        ping(name, report.database_url)
        if report.query is not None:
            prepare(name, report.database_url, report.query, timeout_seconds=report.timeout_seconds)
    except (ConfigError, Rejected) as exc:
        return CheckResult(label, "fail", str(exc))
    except ZenodoExportError as exc:
        return CheckResult(label, "warn", str(exc))
    return CheckResult(label, "ok", "its database answers and plans the query (read only)")


def check_database(settings: Settings) -> CheckResult:
    """Check that the database answers and is migrated to the newest schema."""
    store = None
    try:
        store = Store.open(settings.resolved_database_url, migrate=False)
        if not store.is_migrated():
            return CheckResult(
                "database",
                "warn",
                f"{store.url_for_display} is not migrated yet: `zenodo-export migrate` "
                "migrates it (so does any other command, once)",
            )
        return CheckResult("database", "ok", store.url_for_display)
    except ZenodoExportError as exc:
        return CheckResult("database", "fail", str(exc))
    finally:
        if store is not None:
            store.dispose()


def check_files_store(settings: Settings) -> CheckResult:
    """Check that the files store takes a write and gives it back (then remove the probe)."""
    try:
        files = files_store(settings)
        files.probe()
    except ZenodoExportError as exc:
        return CheckResult("files store", "fail", str(exc))
    return CheckResult("files store", "ok", f"{files.shown} (written, read, removed)")


NO_DEPOSITION = 0
"""A deposition id that never exists: publishing it shows the token's scope, changing nothing."""


def check_zenodo(settings: Settings) -> CheckResult:
    """Check that Zenodo answers, accepts the token, and lets it publish.

    The publish scope (``deposit:actions``) is probed by asking to publish a deposition that
    does not exist: a token with the scope gets 404, one without it 403; nothing is created.
    """
    if settings.zenodo_token is None:
        return CheckResult("zenodo", "fail", "no token to try")
    try:
        with client_factory(settings)() as client:
            client.list_depositions(size=1)
            try:
                client.publish(NO_DEPOSITION)
            except ZenodoNotFound:
                pass  # the scope is there: only the deposition is missing
            except AuthRejected:
                return CheckResult(
                    "zenodo",
                    "fail",
                    "the token cannot publish: it lacks the deposit:actions scope (make a "
                    "token with deposit:write and deposit:actions)",
                )
    except ZenodoExportError as exc:
        return CheckResult("zenodo", "fail", scrubbed_echo(str(exc), settings))
    return CheckResult(
        "zenodo", "ok", f"{settings.zenodo_url} accepts the token (deposit:write and actions)"
    )


def scrubbed_echo(text: str, settings: Settings) -> str:
    """Return what a server said as one short line without the token or any URL password.

    A server may echo what it was sent (the token, a header) in its error message.
    """
    token = settings.zenodo_token.get_secret_value() if settings.zenodo_token else ""
    line = " ".join(mask_url(scrub(text, [token])).split())
    return line if len(line) <= ECHO_LIMIT else line[: ECHO_LIMIT - 3] + "..."


CHECKS: tuple[Callable[[Settings], list[CheckResult]], ...] = (
    check_settings,
    check_config_file,
    lambda settings: [check_database(settings)],
    lambda settings: [check_files_store(settings)],
    lambda settings: [check_zenodo(settings)],
)
"""Every check, in the order they are shown."""


def run_checks(settings: Settings) -> list[CheckResult]:
    """Run every check and return the results."""
    return [result for check in CHECKS for result in check(settings)]
