"""``zenodo-export check``: is everything in place to export? Each check says what to fix."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from zenodo_export.errors import ZenodoExportError
from zenodo_export.pipeline.runner import client_factory
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
    for name, value in (("CREATOR", config.creator), ("GITHUB_URL", config.github_url)):
        found.append(
            CheckResult(name, "ok", value)
            if value
            else CheckResult(name, "warn", "not set: every export must then give it")
        )
    return found


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
    lambda config: [check_database(config)],
    lambda config: [check_zenodo(config)],
)
"""Every check, in the order they are shown."""


def run_checks(config: Settings) -> list[CheckResult]:
    """Run every check and return the results."""
    return [result for check in CHECKS for result in check(config)]
