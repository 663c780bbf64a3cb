"""The dashboard in real headless Chromium (Debian's, driven by Playwright): sign in, watch an
export go from queued to done while a worker runs, open its page, retry a failed export,
resolve an alert, sign out; a viewer sees no action button. Screenshots go to
``tests/screenshots/`` (git-ignored).

Without a Chromium these tests skip, except in CI (``CI`` set), where they fail: CI must prove
the dashboard works in a browser.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.cli import CLI
from tests.fixtures.web import Served, stop
from tests.web.test_pages import data_file, export, store_of
from zenodo_export.exports.service import create_and_queue
from zenodo_export.exports.undo import cancel_export
from zenodo_export.store import record_alert

pytestmark = pytest.mark.slow

SHOTS = Path(__file__).parent.parent / "screenshots"
CHROMIUM = ("/usr/bin/chromium", "/usr/bin/chromium-browser")


def chromium() -> str:
    """The Chromium to drive; skip without one, or fail in CI where it must run."""
    found = next((path for path in CHROMIUM if os.access(path, os.X_OK)), None)
    found = found or shutil.which("chromium")
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("Chromium is required in CI: `apt-get install chromium chromium-driver`")
    pytest.skip("no Chromium installed (apt-get install chromium)")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module (each test opens its own context)."""
    path = chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, headless=True)
        yield launched
        launched.close()


def shot(page: Any, name: str) -> None:
    """Save a screenshot of the whole page as ``tests/screenshots/NAME.png``."""
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sign_in(browser: Any, served: Served, token: str, **context: Any) -> Any:
    """A new browser context signed in through the form with the keyboard; its page."""
    page = browser.new_context(**context).new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{served.base_url}/exports")
    assert page.url.startswith(f"{served.base_url}/signin?next=/exports")
    page.get_by_label("API token").fill(token)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{served.base_url}/exports")
    return page


def fits(page: Any) -> bool:
    """Say whether the page fits its viewport's width (no sideways scrolling)."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def start_worker(served: Served) -> subprocess.Popen[bytes]:
    """Start ``zenodo-export worker`` on the served database."""
    with (served.cwd / "worker.log").open("ab") as log:
        return subprocess.Popen(
            [*CLI, "worker"], env=served.env, cwd=served.cwd, stdout=log, stderr=subprocess.STDOUT
        )


def test_an_admin_watches_an_export_publish_retries_resolves_and_signs_out(
    browser: Any, served: Served
) -> None:
    """The admin's journey: queued to done live, the record on its page, retry of a failed
    export, one click to resolve its alerts, sign out."""
    page = sign_in(browser, served, served.admin_token)
    assert "Signed in as admin-0 (admin)" in page.inner_text(".flash")
    export_id = export(served, "stats", data_file(served, "stats.csv"))
    path = data_file(served, "gone.csv")
    failed = export(served, "gone", path, in_place=True)
    path.unlink()  # before any worker runs: it will fail, alerted
    page.goto(f"{served.base_url}/exports")
    assert page.locator("#exports tbody tr").count() == 2
    shot(page, "admin-exports-list")
    page.get_by_role("link", name=str(export_id), exact=True).click()
    assert page.inner_text("#export-state") == "pending"
    worker = start_worker(served)
    try:
        page.wait_for_selector("#export-state.state-done", timeout=60_000)  # live refresh
        assert page.inner_text("#record-doi").startswith("10.")
        assert page.locator("#record-url").get_attribute("href")
        shot(page, "admin-export-done")
        page.get_by_role("link", name="Workers", exact=True).click()
        page.wait_for_selector("#workers .state-done")  # alive
        shot(page, "admin-workers")
        page.goto(f"{served.base_url}/exports/{failed}")
        page.wait_for_selector("#export-state.state-failed", timeout=30_000)
        page.get_by_role("button", name=f"Retry export {failed}").click()
        page.wait_for_selector(".flash")
        assert f"Export {failed} is queued again" in page.inner_text(".flash")
        page.wait_for_function(  # the worker runs it again; the file is still gone
            "document.querySelectorAll('#jobs tbody tr').length === 2"
            " && document.getElementById('export-state').textContent === 'failed'",
            timeout=30_000,
        )
        assert page.locator(".live-note").is_hidden(), "over: the page stops refreshing"
        shot(page, "admin-export-retried")
    finally:
        stop(worker)
    page.get_by_role("link", name="Alerts", exact=True).click()
    assert page.locator(".resolve-group").count() == 1
    page.get_by_role("button", name="Resolve all 2").click()
    assert "2 alert(s) of" in page.inner_text(".flash")
    assert page.locator("#no-alerts").is_visible()
    shot(page, "admin-alerts-resolved")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{served.base_url}/signin")
    assert "Signed out." in page.inner_text(".flash")
    page.goto(f"{served.base_url}/")
    assert "/signin" in page.url
    shot(page, "signed-out")


def cancelled_with_an_alert(served: Served) -> int:
    """A failed export (queued, then cancelled as the CLI does) with an alert and its backtrace,
    made in this process: quicker than a worker, and the same store functions."""
    with store_of(served) as store:
        export_id = create_and_queue(
            store, name="gone", files=[str(data_file(served, "gone.csv"))], title="T",
            description="D", creators=["Doe, Jane"], keywords=["k"],
            code_repository_url="https://example.org/code", publication_date="2026-01-01",
        )  # fmt: skip
        cancel_export(store, export_id)
        try:
            raise FileNotFoundError(f"export {export_id}: gone.csv does not exist")
        except FileNotFoundError as exc:
            with store.transaction() as session:
                record_alert(session, exc, export_id=export_id)
    return export_id


def test_a_viewer_sees_no_action_button_on_a_phone(browser: Any, served: Served) -> None:
    """A viewer on a phone-sized screen reads the overview, a failed export and its alerts,
    and finds no retry, cancel or resolve button; the keyboard reaches the content."""
    failed = cancelled_with_an_alert(served)
    phone = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 1}
    page = sign_in(browser, served, served.viewer_token, **phone)
    page.goto(f"{served.base_url}/")
    assert page.locator("h1").inner_text() == "Overview"
    assert fits(page), "the overview scrolls sideways on a phone"
    shot(page, "viewer-overview-phone")
    page.goto(f"{served.base_url}/exports/{failed}")
    assert page.inner_text("#export-state") == "failed" and fits(page)
    assert page.get_by_role("button", name="Retry").count() == 0
    assert page.get_by_role("button", name="Cancel").count() == 0
    page.locator("details summary").first.click()
    assert "Traceback" in page.locator("details pre").first.inner_text()
    shot(page, "viewer-export-failed")
    page.goto(f"{served.base_url}/alerts")
    assert page.locator("#alert-groups").is_visible() and fits(page)
    assert page.get_by_role("button", name="Resolve").count() == 0
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    shot(page, "viewer-alerts-phone")
    page.context.close()
