"""``zenodo-export check``: is everything in place to export? Each check says what to fix."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from zenodo_export.errors import ConfigError, ZenodoExportError
from zenodo_export.pipeline.runner import client_factory
from zenodo_export.reports import ReportConfig, load_config, missing_settings
from zenodo_export.reports.query import ping
from zenodo_export.settings import Settings
from zenodo_export.store import Store

Status = Literal["ok", "warn", "fail"]


@dataclass(frozen=True)
class CheckResult:
    """One line of the check: what was checked, how it went, and why."""

    name: str
    status: Status
    detail: str


def check_settings(config: Settings) -> list[CheckResult]:
    """Check the settings an export needs (Lagotto's names are read too)."""
    found = [CheckResult("ZENODO_URL", "ok", config.zenodo_url)]
    if config.zenodo_token is None:
        found.append(CheckResult("ZENODO_TOKEN", "fail", "not set (ZENODO_KEY is read too)"))
    else:
        found.append(CheckResult("ZENODO_TOKEN", "ok", "set"))
    needed = needed_settings(config)
    for name, value in (
        ("CREATOR", config.creator),
        ("GITHUB_URL", config.github_url),
        ("SITENAMELONG", config.sitenamelong),
        ("SERVERNAME", config.servername),
    ):
        found.append(_lagotto_setting(name, value, needed.get(name, [])))
    return found


def needed_settings(config: Settings) -> dict[str, list[str]]:
    """Map each unset Lagotto setting to the reports and snapshots that need it."""
    try:
        loaded = load_config(config)
    except ConfigError:
        return {}  # check_config reports it
    needed: dict[str, list[str]] = {}
    for name, report in sorted(loaded.reports.items()):
        for setting in missing_settings(report, config):
            needed.setdefault(setting, []).append(f"report {name}")
    if loaded.snapshots and not config.servername:
        needed["SERVERNAME"] = [f"snapshot {name}" for name in sorted(loaded.snapshots)]
    return needed


def _lagotto_setting(name: str, value: str | None, users: list[str]) -> CheckResult:
    if value:
        return CheckResult(name, "ok", value)
    if users:
        return CheckResult(name, "fail", f"not set: needed by {', '.join(users)}")
    if name in ("CREATOR", "GITHUB_URL"):
        return CheckResult(name, "warn", "not set: every export must then give it")
    return CheckResult(name, "ok", "not set (nothing configured needs it)")


def check_config(config: Settings) -> list[CheckResult]:
    """Check the config file parses and each report's database answers (or files exist)."""
    try:
        loaded = load_config(config)
    except ConfigError as exc:
        return [CheckResult("config", "fail", str(exc))]
    if not loaded.path.exists():
        return [CheckResult("config", "ok", f"{loaded.path} not found: no reports or schedules")]
    schedules = sum(report.schedule is not None for report in loaded.reports.values())
    summary = (
        f"{loaded.path}: {len(loaded.reports)} report(s), {schedules} schedule(s), "
        f"{len(loaded.snapshots)} snapshot(s)"
    )
    reports = [_check_report(name, loaded.reports[name]) for name in sorted(loaded.reports)]
    return [CheckResult("config", "ok", summary), *reports]


def _check_report(name: str, report: ReportConfig) -> CheckResult:
    label = f"report {name}"
    if report.database_url is None:
        missing = [str(path) for path in report.files if not path.is_file()]
        if missing:
            return CheckResult(label, "warn", f"missing file(s): {', '.join(missing)}")
        return CheckResult(label, "ok", f"{len(report.files)} file(s)")
    try:
        ping(name, report.database_url)
    except ConfigError as exc:
        return CheckResult(label, "fail", str(exc))
    except ZenodoExportError as exc:
        return CheckResult(label, "warn", str(exc))
    return CheckResult(label, "ok", "its database answers")


def check_database(config: Settings) -> CheckResult:
    """Check that the database answers and is migrated to the newest schema."""
    store = None
    try:
        store = Store.open(config.resolved_database_url, migrate=False)
        if not store.is_migrated():
            return CheckResult(
                "database",
                "fail",
                f"{store.url_for_display} is not migrated "
                "(any zenodo-export command except check migrates it)",
            )
        return CheckResult("database", "ok", store.url_for_display)
    except ZenodoExportError as exc:
        return CheckResult("database", "fail", str(exc))
    finally:
        if store is not None:
            store.dispose()


def check_zenodo(config: Settings) -> CheckResult:
    """Check that Zenodo answers and accepts the token."""
    if config.zenodo_token is None:
        return CheckResult("zenodo", "fail", "no token to try")
    try:
        with client_factory(config)() as client:
            client.list_depositions(size=1)
    except ZenodoExportError as exc:
        return CheckResult("zenodo", "fail", str(exc))
    return CheckResult("zenodo", "ok", f"{config.zenodo_url} accepts the token")


CHECKS: tuple[Callable[[Settings], list[CheckResult]], ...] = (
    check_settings,
    check_config,
    lambda config: [check_database(config)],
    lambda config: [check_zenodo(config)],
)
"""Every check, in the order they are shown."""


def run_checks(config: Settings) -> list[CheckResult]:
    """Run every check and return the results."""
    return [result for check in CHECKS for result in check(config)]
