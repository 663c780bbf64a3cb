"""Lagotto's ``GET /api/data_exports`` (v7) over real HTTP: the cases of Lagotto's own
``spec/apis/v7/data_exports_spec.rb``, with exports made by the real CLI and a real worker."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import httpx

from tests.fixtures.cli import CLI
from tests.fixtures.web import Served

V7 = "application/json; version=7"
UNAUTHORIZED = {"meta": {"status": "error", "error": "You are not authorized to access this page."}}
RAILS_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
ITEM_KEYS = ["url", "type", "started_exporting_at", "finished_exporting_at", "failed_at"]
EXPORT = ["--title", "T", "--description", "D", "--keyword", "k", "--creator", "Doe, Jane",
          "--code-repository-url", "https://github.com/example/tool"]  # fmt: skip


def lagotto(
    served: Served, token: str | None, *, accept: str = V7, **params: Any
) -> httpx.Response:
    """``GET /api/data_exports`` as Lagotto's clients send it (``Token token=...``)."""
    headers = {"Accept": accept}
    if token is not None:
        headers["Authorization"] = f"Token token={token}"
    return served.client().get("/api/data_exports", params=params, headers=headers)


def export(served: Served, name: str, *options: str) -> int:
    """Create an export of a new small file with the real CLI; return its id."""
    path = served.cwd / f"{name}.csv"
    path.write_text(f"{name}\n")
    made = served.cli("export", str(path), "--name", name, *EXPORT, *options)
    assert made.returncode == 0, made.stderr
    return int(made.stdout)


def show(served: Served, export_id: int) -> dict[str, Any]:
    """The export as ``show --json`` gives it."""
    shown = served.cli("show", str(export_id), "--json")
    assert shown.returncode == 0, shown.stderr
    result: dict[str, Any] = json.loads(shown.stdout)
    return result


def test_without_a_valid_token_it_is_lagottos_401(served: Served) -> None:
    """No key, a wrong key, a revoked key, another scheme: 401 with Lagotto's exact body."""
    assert lagotto(served, None).status_code == 401
    assert lagotto(served, None).json() == UNAUTHORIZED
    assert lagotto(served, "zx_wrong").json() == UNAUTHORIZED
    basic = served.client().get(
        "/api/data_exports", headers={"Authorization": f"Basic {served.viewer_token}"}
    )
    assert basic.status_code == 401 and basic.json() == UNAUTHORIZED
    revoked = served.cli("token", "create", "revoked", "--role", "viewer").stdout.strip()
    assert lagotto(served, revoked).status_code == 200
    assert served.cli("token", "revoke", "revoked").returncode == 0
    refused = lagotto(served, revoked)
    assert refused.status_code == 401 and refused.json() == UNAUTHORIZED
    assert refused.headers["content-type"].startswith("application/json")


def test_staff_and_admin_keys_read_it_as_json_and_jsonp(served: Served) -> None:
    """Viewer (Lagotto's staff) and admin tokens get 200, with or without the version, quoted
    or bare, and ``?callback=`` wraps the same body as JSONP."""
    for token in (served.viewer_token, served.admin_token):
        answer = lagotto(served, token)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "application/json; charset=utf-8"
        assert answer.headers["access-control-allow-origin"] == "*"
    for header in (f'Token token="{served.viewer_token}"', f"Token {served.viewer_token}",
                   f"Bearer {served.viewer_token}"):  # fmt: skip
        answer = served.client().get("/api/data_exports", headers={"Authorization": header})
        assert answer.status_code == 200, header
    plain = lagotto(served, served.viewer_token, accept="application/json").json()
    jsonp = lagotto(
        served, served.viewer_token, accept="application/javascript; version=7", callback="_func"
    )
    assert jsonp.status_code == 200
    assert jsonp.headers["content-type"].startswith("application/javascript")
    assert jsonp.text.startswith("_func(") and jsonp.text.endswith(")")
    assert json.loads(jsonp.text[6:-1]) == plain
    bad = lagotto(served, served.viewer_token, callback="alert(1)//")
    assert bad.status_code == 400 and bad.json()["meta"]["status"] == "error"
    assert "callback" in bad.json()["meta"]["error"]


def test_the_list_is_lagottos_v7_body_newest_first(served_on: Served) -> None:
    """A published, a failed and a pending export (real CLI, real worker) come back newest
    first in Lagotto's v7 shape: its meta, its keys in order, nil keys left out, Rails' times,
    ``type`` ZenodoDataExport, ``data`` with the metadata and the deposition, no secret."""
    done_id = export(served_on, "monthly")
    failing = served_on.cwd / "failing.csv"
    failing.write_text("gone\n")
    made = served_on.cli("export", str(failing), "--in-place", "--name", "failing", *EXPORT)
    failed_id = int(made.stdout)
    failing.unlink()
    assert served_on.cli("worker", "--burst").returncode == 0
    pending_id = export(served_on, "later")

    answer = lagotto(served_on, served_on.viewer_token)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert list(body) == ["meta", "data_exports"]
    assert body["meta"] == {
        "status": "ok", "message-type": "data-exports-list", "message-version": "v7",
        "total": 3, "total_pages": 1, "page": 1,
    }  # fmt: skip
    items = body["data_exports"]
    assert [item["state"] for item in items] == ["pending", "failed", "done"]
    assert all(item["type"] == "ZenodoDataExport" for item in items)
    pending, failed, done = items

    published = show(served_on, done_id)
    assert list(done) == [*ITEM_KEYS[:4], "state", "data"], "no failed_at: nil keys are left out"
    assert done["url"] == published["url"]
    assert RAILS_TIME.fullmatch(done["started_exporting_at"])
    assert RAILS_TIME.fullmatch(done["finished_exporting_at"])
    assert done["finished_exporting_at"][:19] == published["finished_exporting_at"][:19]
    assert done["data"]["title"] == "T" and done["data"]["creators"] == ["Doe, Jane"]
    assert done["data"]["keywords"] == ["k"] and done["data"]["files"][0].endswith("monthly.csv")
    assert done["data"]["remote_deposition"]["doi"] == published["doi"]

    assert "url" not in failed and "finished_exporting_at" not in failed
    assert RAILS_TIME.fullmatch(failed["failed_at"])
    assert show(served_on, failed_id)["state"] == "failed"
    assert list(pending) == ["type", "state", "data"]
    assert show(served_on, pending_id)["state"] == "pending"

    text = answer.text
    staged_keys = [entry["key"] for entry in published["data"]["staged"]]
    assert staged_keys and show(served_on, failed_id)["data"]["host"], "show has them"
    for secret in (served_on.env["ZENODO_TOKEN"], *staged_keys):
        assert secret not in text
    for internal in ("export_key", "staged", "host", "bucket_url"):
        assert f'"{internal}"' not in text


def test_pages_follow_lagottos_rules(served: Served) -> None:
    """``page`` and ``per_page`` page newest first; per_page above 1000 (or below 0) is 1000,
    0 is an empty page, a page below 1 is 1, past the end is empty; a value that is not a whole
    number is 400 in Lagotto's error shape; an empty table is one page."""
    viewer = served.viewer_token

    def meta(**params: Any) -> tuple[dict[str, Any], list[str]]:
        answer = lagotto(served, viewer, **params)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        return body["meta"], [item["data"]["title"] for item in body["data_exports"]]

    empty, rows = meta(page=5)
    assert (empty["total"], empty["total_pages"], empty["page"], rows) == (0, 1, 1, [])
    for n in range(3):
        export(served, f"paged-{n}", "--title", f"T{n}")
    first, rows = meta(per_page=2)
    assert (first["total"], first["total_pages"], first["page"], rows) == (3, 2, 1, ["T2", "T1"])
    second, rows = meta(per_page=2, page=2)
    assert (second["page"], rows) == (2, ["T0"])
    past, rows = meta(per_page=2, page=3)
    assert (past["page"], rows) == (3, [])
    for too_many in (5000, -1):
        capped, rows = meta(per_page=too_many)
        assert (capped["total_pages"], rows) == (1, ["T2", "T1", "T0"])
    zero, rows = meta(per_page=0)
    assert (zero["total"], zero["total_pages"], rows) == (3, 1, [])
    for below in (0, -3):
        assert meta(page=below, per_page=1)[0]["page"] == 1
    assert meta(page="", per_page="")[1] == ["T2", "T1", "T0"], "empty is absent"
    for name, value in (("per_page", "abc"), ("page", "1.5"), ("page", "9" * 40)):
        refused = lagotto(served, viewer, **{name: value})
        assert refused.status_code == 400
        assert refused.json() == {
            "meta": {"status": "error", "error": f"{name} must be a whole number, not {value!r}"}
        }
    assert lagotto(served, None, per_page="abc").json() == UNAUTHORIZED, "the key comes first"


def test_a_database_outage_is_503_in_lagottos_shape(
    serve_factory: Any, postgres_proxy: tuple[Any, str]
) -> None:
    """With PostgreSQL unreachable the list answers 503 in Lagotto's error shape, then 200."""
    proxy, through = postgres_proxy
    served = serve_factory(through)
    assert lagotto(served, served.viewer_token).status_code == 200
    cut = proxy.cut_in_background(6)
    try:
        answer = lagotto(served, served.viewer_token)
        assert answer.status_code == 503, answer.text
        assert answer.json()["meta"]["status"] == "error"
        assert "database" in answer.json()["meta"]["error"]
        assert "Traceback" not in answer.text
    finally:
        cut.join()
    assert lagotto(served, served.viewer_token).status_code == 200


def test_the_route_is_not_a_dashboard_page(served: Served, tmp_path: Path) -> None:
    """``/api/data_exports`` is never redirected to sign-in, with or without a browser's Accept."""
    answer = served.client(follow_redirects=False).get(
        "/api/data_exports", headers={"Accept": "text/html"}
    )
    assert answer.status_code == 401 and answer.json() == UNAUTHORIZED
    suffixed = served.client().get(
        "/api/data_exports.json", headers={"Authorization": f"Token token={served.viewer_token}"}
    )
    assert suffixed.status_code == 200 and suffixed.json()["meta"]["message-version"] == "v7"


def test_a_snapshot_shows_as_lagottos_api_snapshot(served: Served, home: Any) -> None:
    """A snapshot crawled by the real CLI is an ``ApiSnapshot`` whose ``data`` holds Lagotto's
    crawl options under Lagotto's names, and none of ours (cursor, header variables)."""
    from tests.snapshots.hostile_server import json_page

    start = home.route("/api/works", json_page({"meta": {"page": 1, "total_pages": 1}}))
    env_with_secret = {**served.env, "WORKS_KEY": "s3cret-header-value"}
    crawled = subprocess.run(
        [*CLI, "snapshot", start, "--allow-private", "--header", "X-Key=env:WORKS_KEY",
         "--wait", "--json"],
        env=env_with_secret, cwd=served.cwd, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert crawled.returncode == 0, crawled.stderr
    [snapshot] = lagotto(served, served.viewer_token).json()["data_exports"]
    assert snapshot["type"] == "ApiSnapshot" and snapshot["url"] == start
    assert snapshot["state"] == "done" and RAILS_TIME.fullmatch(snapshot["finished_exporting_at"])
    data = snapshot["data"]
    assert (data["pages_per_job"], data["start_page"], data["pageno"]) == (10, 1, 2)
    assert data["num_pages"] == 1 and data["snapshot_date"] and data["snapshot_dir"]
    assert not {"cursor", "headers", "directory", "date", "allow_private"} & set(data)
    assert "WORKS_KEY" not in json.dumps(snapshot) and "s3cret" not in json.dumps(snapshot)
