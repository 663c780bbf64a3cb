"""The dashboard over real HTTP: every page for a viewer and an admin, filters and keyset pages,
an export's record, files and timeline, retry / cancel / resolve, and bad input of every form."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.fixtures.database import opened_store
from tests.fixtures.web import Served, ServeFactory
from tests.web.test_access import CSRF, signed_in
from zenodo_export.exports.service import create_and_queue
from zenodo_export.store import Store, get_export, record_alert

PAGES = ("/", "/exports", "/alerts", "/schedules", "/workers")
EXPORT = ["--title", "A title", "--description", "D", "--keyword", "k", "--creator", "Doe, Jane",
          "--code-repository-url", "https://example.org/code"]  # fmt: skip
ACTIONS = re.compile(r'<form method="post" action="/(exports/\d+/(retry|cancel)|alerts/resolve)')


def export(served: Served, name: str, *files: Path, in_place: bool = False) -> int:
    """Create an export with the real CLI; return its id."""
    extra = ["--in-place"] if in_place else []
    made = served.cli("export", *map(str, files), "--name", name, *EXPORT, *extra, "--json")
    assert made.returncode == 0, made.stderr
    found = re.search(r'"id": (\d+)', made.stdout)
    assert found, made.stdout
    return int(found.group(1))


def data_file(served: Served, name: str, content: bytes = b"a,b\n1,2\n") -> Path:
    """Write a file to export."""
    path = served.cwd / "files" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(content)
    return path


def burst(served: Served) -> None:
    """Run a real worker until the queue is empty."""
    ran = served.cli("worker", "--burst", timeout=180)
    assert ran.returncode == 0, ran.stderr


@contextmanager
def store_of(served: Served) -> Iterator[Store]:
    """The served database, opened in this process (the same functions the CLI calls)."""
    with opened_store(served.env["DATABASE_URL"]) as store:
        yield store


def failed_export(served: Served, name: str = "gone") -> int:
    """An export whose in-place file is deleted before the worker runs: it fails, alerted."""
    path = data_file(served, f"{name}.csv")
    export_id = export(served, name, path, in_place=True)
    path.unlink()
    burst(served)
    return export_id


def csrf_of(page: httpx.Response) -> str:
    """The CSRF token the page's forms carry."""
    return str(CSRF.findall(page.text)[0])


def state_of(served: Served, export_id: int) -> str:
    """The export's state, read from the database."""
    with store_of(served) as store, store.transaction() as session:
        return str(get_export(session, export_id).state)


def test_every_page_renders_for_a_viewer_and_an_admin(served: Served) -> None:
    """Each page answers 200 with one h1, landmarks and labelled tables; a viewer sees no action
    button, an admin does; the Zenodo token appears on no page."""
    done = export(served, "stats", data_file(served, "stats.csv"))
    burst(served)
    failed = failed_export(served)
    pages = [*PAGES, f"/exports/{done}", f"/exports/{failed}"]
    viewer, admin = signed_in(served, served.viewer_token), signed_in(served, served.admin_token)
    for path in pages:
        for browser in (viewer, admin):
            page = browser.get(path)
            assert page.status_code == 200, (path, page.text)
            assert page.text.count("<h1") == 1 and '<main id="main"' in page.text
            assert '<nav aria-label="Main"' in page.text
            assert served.env["ZENODO_TOKEN"] not in page.text
            assert "<th>" not in page.text, "every header cell has a scope"
        assert not ACTIONS.search(viewer.get(path).text), f"a viewer sees an action on {path}"
    assert f'action="/exports/{failed}/retry"' in admin.get(f"/exports/{failed}").text
    assert "/alerts/resolve" in admin.get("/alerts").text
    assert f'action="/exports/{done}/' not in admin.get(f"/exports/{done}").text, "published"


def test_the_overview_counts_exports_queue_workers_and_last_successes(served: Served) -> None:
    """The overview shows the states' counts, failures in 24 h, ready jobs and the oldest
    waiting one, workers alive, and the last success per name with its age."""
    published = export(served, "monthly", data_file(served, "m.csv"))
    burst(served)
    failed_export(served)
    waiting = export(served, "later", data_file(served, "l.csv"))
    page = signed_in(served, served.viewer_token).get("/").text
    assert re.search(r'id="count-done">1<', page) and re.search(r'id="count-failed">1<', page)
    assert re.search(r'id="count-pending">1<', page)
    assert re.search(r'id="failures-24h">1<', page)
    assert re.search(r'id="ready-jobs">1<', page)
    assert f'href="/exports/{waiting}">export {waiting}</a>' in page
    assert re.search(r'id="workers-alive">0<', page), "the burst worker has stopped"
    assert f'<a href="/exports/{published}">{published}</a>' in page
    assert re.search(r"<th scope=\"row\">monthly</th>.*?\d+ s ago", page, re.S)


def make_many(served: Served, tmp_path: Path) -> dict[str, list[int]]:
    """30 exports: 3 through the CLI, 27 through create_and_queue, in three names; two old."""
    ids: dict[str, list[int]] = {"alpha": [], "beta": [], "gamma": []}
    for name in ids:
        ids[name].append(export(served, name, data_file(served, f"{name}.csv")))
    path = data_file(served, "bulk.csv")
    with store_of(served) as store:
        common = {"files": [str(path)], "description": "D", "creators": ["Doe, Jane"],
                  "keywords": ["k"], "publication_date": "2026-01-01",
                  "code_repository_url": "https://example.org/code"}  # fmt: skip
        for n in range(27):
            name = ("alpha", "beta", "gamma")[n % 3]
            title = "Needle in a haystack" if n == 7 else f"Bulk {n}"
            ids[name].append(create_and_queue(store, name=name, title=title, **common))
        with store.transaction() as session:  # two made "last year", to filter by date
            for export_id in (ids["alpha"][1], ids["beta"][1]):
                get_export(session, export_id).created_at = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
    return ids


def listed(page: httpx.Response) -> list[int]:
    """The export ids a list page shows, in order."""
    assert page.status_code == 200, page.text
    return [int(n) for n in re.findall(r'<th scope="row"><a href="/exports/(\d+)">', page.text)]


def pager(page: httpx.Response, rel: str) -> str | None:
    """The pager's link ``rel`` (first, prev, next, last), if the page has one."""
    found = re.search(rf'<a href="([^"]+)" rel="{rel}">', page.text)
    return found.group(1).replace("&amp;", "&") if found else None


def test_the_exports_list_filters_searches_and_pages(served: Served, tmp_path: Path) -> None:
    """30 exports: 25 a page, newest first; next, previous, first and last pages by keyset;
    filters by state, name, type, dates and a text search, kept across pages."""
    ids = make_many(served, tmp_path)
    every = sorted((n for group in ids.values() for n in group), reverse=True)
    browser = signed_in(served, served.viewer_token)
    first = browser.get("/exports")
    assert listed(first) == every[:25] and "30 exports match" in first.text
    assert pager(first, "prev") is None and pager(first, "first") is None
    second = browser.get(pager(first, "next") or "")
    assert listed(second) == every[25:] and pager(second, "next") is None
    assert listed(browser.get(pager(second, "prev") or "")) == every[:25]
    last = browser.get(pager(first, "last") or "")
    assert listed(last) == every[-25:] and pager(last, "next") is None
    assert listed(browser.get(pager(last, "first") or "")) == every[:25]
    alpha = browser.get("/exports", params={"name": "alpha"})
    assert listed(alpha) == sorted(ids["alpha"], reverse=True)
    assert listed(browser.get("/exports", params={"q": "needle"})) == [ids["beta"][3]]
    old = {"created_to": "2025-12-31"}
    assert sorted(listed(browser.get("/exports", params=old))) == [ids["alpha"][1], ids["beta"][1]]
    recent = {"created_from": "2026-01-01", "name": "beta", "type": "ZenodoDataExport"}
    assert len(listed(browser.get("/exports", params=recent))) == 9
    assert listed(browser.get("/exports", params={"state": "done"})) == []
    assert len(listed(browser.get("/exports", params={"state": "pending"}))) == 25
    assert len(listed(browser.get("/exports", params={"state": "", "type": "", "q": ""}))) == 25
    gamma = browser.get("/exports", params={"name": "gamma", "state": "pending"})
    assert "name=gamma" in (pager(gamma, "next") or "name=gamma"), "filters are kept"


def test_an_export_page_shows_record_files_timeline_and_versions(served: Served) -> None:
    """A published export: URL, DOI, concept DOI, each file's size and md5, a timeline with
    durations, the other version of its name and what the store does not record."""
    content = b"id,total\n1,42\n"
    first = export(served, "stats", data_file(served, "stats.csv", content))
    burst(served)
    second = export(served, "stats", data_file(served, "stats.csv", content + b"2,7\n"))
    page = signed_in(served, served.viewer_token).get(f"/exports/{first}")
    assert page.status_code == 200
    with store_of(served) as store, store.transaction() as session:
        done = get_export(session, first)
        url, doi, concept = done.url, done.doi, done.concept_doi
    assert url and doi and concept
    assert f'href="{url}"' in page.text and doi in page.text and concept in page.text
    assert "stats.csv" in page.text and "14 bytes" in page.text
    assert "a4b3" in page.text or re.search(r'class="mono">[0-9a-f]{32}<', page.text)
    assert "export created" in page.text and "file stats.csv uploaded" in page.text
    assert re.search(r"published <span class=\"hint\">\(took \d+ s\)", page.text)
    assert f'<a href="/exports/{second}">Export {second}</a>' in page.text
    assert "not recorded" in page.text
    queued = signed_in(served, served.viewer_token).get(f"/exports/{second}").text
    assert "pending" in queued and "for the next free worker" in queued, "what it waits for"


def test_an_admin_retries_and_cancels_and_resolves(served: Served) -> None:
    """Retry queues a failed export again; cancel fails a queued one; resolve clears its alert
    and a whole group: each with a message, as the CLI would."""
    failed = failed_export(served)
    admin = signed_in(served, served.admin_token)
    page = admin.get(f"/exports/{failed}")
    assert "<details><summary>Backtrace</summary>" in page.text and "Traceback" in page.text
    retried = admin.post(f"/exports/{failed}/retry", data={"csrf": csrf_of(page)})
    assert retried.status_code == 303 and retried.headers["location"] == f"/exports/{failed}"
    after = admin.get(f"/exports/{failed}")
    assert f"Export {failed} is queued again" in after.text
    assert state_of(served, failed) == "pending"
    cancelled = admin.post(f"/exports/{failed}/cancel", data={"csrf": csrf_of(after)})
    assert cancelled.status_code == 303
    assert "is cancelled" in admin.get(f"/exports/{failed}").text
    assert state_of(served, failed) == "failed"
    alerts = admin.get("/alerts")
    [uuid] = re.findall(r'name="uuid" value="([^"]+)"', alerts.text)
    resolved = admin.post("/alerts/resolve", data={"csrf": csrf_of(alerts), "uuid": uuid})
    assert resolved.status_code == 303 and "is resolved" in admin.get("/alerts").text
    assert 'id="no-alerts"' in admin.get("/alerts").text


def alerts_of(served: Served) -> None:
    """Three alerts of one class and message on one host, one of another class, one WARN."""
    with store_of(served) as store, store.transaction() as session:
        for _ in range(3):
            record_alert(session, TimeoutError("Zenodo did not answer in 30 s"))
        record_alert(session, KeyError("remote_deposition"))
        record_alert(session, ValueError("odd date"), level="WARN")


def test_alerts_are_grouped_filtered_and_resolved_by_group(served: Served) -> None:
    """Groups by class and message with counts; filters by class, level and host; one click
    resolves a whole group and only it; resolved ones show on asking."""
    alerts_of(served)
    admin = signed_in(served, served.admin_token)
    page = admin.get("/alerts")
    counted = r'Zenodo did not answer in 30 s</th>\s*<td data-label="Count">3</td>'
    assert re.search(counted, page.text)
    assert page.text.count('class="resolve-group"') == 3
    by_class = admin.get("/alerts", params={"class_name": "KeyError"})
    assert "remote_deposition" in by_class.text and "Zenodo did not answer" not in by_class.text
    warn = admin.get("/alerts", params={"level": "WARN"})
    assert "odd date" in warn.text and "remote_deposition" not in warn.text
    host = re.search(r'id="a-host".*?<option value="([^"]+)">', admin.get("/alerts").text, re.S)
    assert host and "odd date" in admin.get("/alerts", params={"hostname": host.group(1)}).text
    assert "odd date" not in admin.get("/alerts", params={"hostname": "elsewhere"}).text
    group = {"csrf": csrf_of(page), "class_name": "TimeoutError", "back": "/alerts?level=ERROR",
             "message": "Zenodo did not answer in 30 s"}  # fmt: skip
    answer = admin.post("/alerts/resolve-group", data=group)
    assert answer.status_code == 303 and answer.headers["location"] == "/alerts?level=ERROR"
    after = admin.get("/alerts").text
    assert "3 alert(s) of TimeoutError resolved" in after and "did not answer" not in after
    assert "remote_deposition" in after, "another group stays"
    assert "did not answer" in admin.get("/alerts", params={"show": "resolved"}).text
    again = admin.post("/alerts/resolve-group", data=group)
    assert again.status_code == 409 and "resolved already" in again.text


def test_a_viewer_cannot_act_even_with_a_forged_form(served: Served) -> None:
    """A viewer's POSTs with a valid CSRF token are 403 pages, and nothing changes."""
    failed = failed_export(served)
    viewer = signed_in(served, served.viewer_token)
    csrf = csrf_of(viewer.get("/alerts"))
    uuid = re.findall(r'id="alert-([^"]+)"', viewer.get("/alerts").text)[0]
    for path, data in (
        (f"/exports/{failed}/retry", {"csrf": csrf}),
        (f"/exports/{failed}/cancel", {"csrf": csrf}),
        ("/alerts/resolve", {"csrf": csrf, "uuid": uuid}),
    ):
        refused = viewer.post(path, data=data)
        assert refused.status_code == 403 and "viewer" in refused.text, path
        assert "<h1>Not allowed</h1>" in refused.text
    assert state_of(served, failed) == "failed"
    assert f'id="alert-{uuid}"' in viewer.get("/alerts").text, "still unresolved"


BAD_PAGES: list[tuple[str, int, str]] = [
    ("/exports?state=lost", 400, "state"),
    ("/exports?created_from=yesterday", 400, "created_from"),
    ("/exports?created_from=2026-02-01&created_to=2026-01-01", 400, "is before"),
    ("/exports?before=zero", 400, "before"),
    ("/exports?created_to=9999-12-31", 400, "created_to: 9999-12-31 is out of range"),
    ("/exports/999999", 404, "999999"),
    ("/exports/abc", 400, "export_id"),
    ("/exports/3000000000", 400, "export_id"),
    ("/alerts?level=LOUD", 400, "level"),
    ("/alerts?show=some", 400, "show"),
    ("/nowhere", 404, "nothing is at /nowhere"),
]


def test_bad_input_gets_a_message_page(served: Served) -> None:
    """A bad filter value or an unknown id is a page with the status and what is wrong."""
    browser = signed_in(served, served.viewer_token)
    for path, status, words in BAD_PAGES:
        page = browser.get(path)
        assert page.status_code == status, (path, page.text)
        assert words in page.text and 'role="alert"' in page.text, (path, page.text)
        assert "Traceback" not in page.text


def test_bad_forms_change_nothing(served: Served) -> None:
    """Missing CSRF, an unknown export or alert, a stale session: a clear answer each, and the
    export and alert stay as they were."""
    failed = failed_export(served)
    admin = signed_in(served, served.admin_token)
    csrf = csrf_of(admin.get("/"))
    no_csrf = admin.post(f"/exports/{failed}/retry", data={})
    assert no_csrf.status_code == 403 and "CSRF" in no_csrf.text
    unknown = admin.post("/exports/999999/cancel", data={"csrf": csrf})
    assert unknown.status_code == 404 and "999999" in unknown.text
    no_alert = admin.post("/alerts/resolve", data={"csrf": csrf, "uuid": "not-a-uuid"})
    assert no_alert.status_code == 404 and "not-a-uuid" in no_alert.text
    missing = admin.post("/alerts/resolve", data={"csrf": csrf})
    assert missing.status_code == 400 and "uuid" in missing.text
    done = admin.post(f"/exports/{failed}/cancel", data={"csrf": csrf})
    assert done.status_code == 409 and "nothing to cancel" in done.text
    stale = served.client(follow_redirects=False)
    stale.cookies.set("zenodo_export_session", "eyJ0b2tlbiI6ICJ4In0=.forged.sig")
    refused = stale.post(f"/exports/{failed}/retry", data={"csrf": csrf})
    assert refused.status_code == 303 and refused.headers["location"].startswith("/signin")
    assert "no longer valid" in stale.get("/signin").text
    assert state_of(served, failed) == "failed"
    assert 'class="resolve"' in admin.get("/alerts").text, "the alert is still unresolved"


def test_workers_and_schedules_pages(serve_factory: ServeFactory, tmp_path: Path) -> None:
    """Workers: each seen, stopped or alive, last beat; schedules: rule, never run, next run
    and the period missed; a broken config file is said, not a crash."""
    config = tmp_path / "config.toml"
    config.write_text(
        '[snapshots.works]\nurl = "http://127.0.0.1:9/api/works"\nschedule = "monthly"\n'
    )
    served = serve_factory(ZENODO_EXPORT_CONFIG=str(config), SERVERNAME="example.org")
    browser = signed_in(served, served.viewer_token)
    assert "No worker has been seen yet" in browser.get("/workers").text
    schedules = browser.get("/schedules").text
    assert '<th scope="row">snapshots.works</th>' in schedules and "never" in schedules
    assert re.search(r"state-failed\">1</span>: \d{4}-\d\d-\d\d 02:50:00 UTC", schedules)
    assert "snapshots.works" in browser.get("/").text
    burst(served)  # the worker fires the missed period
    workers = browser.get("/workers").text
    assert re.search(r"stopped \d+ s ago", workers) and "default" in workers
    fired = browser.get("/schedules").text
    assert "never" not in fired and re.search(r"Missed periods\">none</td>\s*</tr>", fired), fired
    config.write_text("[snapshots.works\n")
    broken = browser.get("/schedules")
    assert broken.status_code == 200 and "config file cannot be read" in broken.text


def test_every_page_renders_on_each_backend(served_on: Served) -> None:
    """SQLite and PostgreSQL: every page with a queued export, an alert, filters and a group
    resolved answers as on the other backend."""
    export_id = export(served_on, "stats", data_file(served_on, "stats.csv"))
    alerts_of(served_on)
    admin = signed_in(served_on, served_on.admin_token)
    query = {"state": "pending", "q": "stat", "created_from": "2026-01-01", "name": "stats"}
    assert listed(admin.get("/exports", params=query)) == [export_id]
    for path in (*PAGES, f"/exports/{export_id}", "/alerts?level=ERROR&show=all"):
        page = admin.get(path)
        assert page.status_code == 200, (path, page.text)
    for path in ("/exports/3000000000", "/exports?before=3000000000", "/alerts?after=3000000000"):
        assert admin.get(path).status_code == 400, f"{path}: refused before the database"
    group = {"csrf": csrf_of(admin.get("/alerts")), "class_name": "KeyError",
             "message": "'remote_deposition'"}  # fmt: skip
    assert admin.post("/alerts/resolve-group", data=group).status_code == 303
    assert "1 alert(s) of KeyError resolved" in admin.get("/alerts").text
