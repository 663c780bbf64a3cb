"""/api/v1/exports over real HTTP against a real ``serve``: every operation, role and error."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.web import Served, ServeFactory


def metadata(name: str = "api-data", **extra: Any) -> dict[str, Any]:
    """An export's metadata as the API takes it."""
    return {
        "name": name,
        "title": "Data made over HTTP",
        "description": "Exported through the API.",
        "keywords": ["api"],
        "creators": ["Doe, Jane"],
        "code_repository_url": "https://example.org/code",
        **extra,
    }


def folder(served: Served) -> Path:
    """The folder the server may export files from."""
    return Path(served.env["ZENODO_EXPORT_WEB_FILES_DIRS"])


def data_file(served: Served, name: str, content: bytes = b"a,b\n1,2\n") -> str:
    """Write a file into the allowed folder; return its path."""
    path = folder(served) / name
    path.write_bytes(content)
    return str(path)


def create(served: Served, name: str = "api-data", **extra: Any) -> dict[str, Any]:
    """Create an export of one new file through the API; return its view."""
    path = data_file(served, f"{name}-{len(list(folder(served).iterdir()))}.csv")
    answer = served.admin.post("/api/v1/exports", json=metadata(name, files=[path], **extra))
    assert answer.status_code == 201, answer.text
    view: dict[str, Any] = answer.json()
    return view


def run_worker(served: Served) -> None:
    """Run a worker until no job is ready (the sandbox is the Zenodo)."""
    done = served.cli("worker", "--burst", timeout=180)
    assert done.returncode == 0, done.stderr


def error(answer: httpx.Response, status: int, field: str | None = None) -> str:
    """Check an answer is the one error shape with ``status`` and ``field``; return its message."""
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert set(body) == {"error"} and body["error"]["status"] == status, body
    assert body["error"]["field"] == field, body
    assert "Traceback" not in answer.text
    message: str = body["error"]["message"]
    if field is not None:
        assert field.split(".")[0].split("[")[0] in message, message
    return message


def store_files(served: Served) -> list[Path]:
    """Every file in the files store (blobs and unfinished writes)."""
    root = Path(served.env["ZENODO_EXPORT_DATA_DIR"]) / "store"
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def serve_with_files(
    serve_factory: ServeFactory, tmp_path: Path, database_url: str | None = None, **settings: str
) -> Served:
    """A ``serve`` that may export files from a folder of tmp_path."""
    allowed = tmp_path / "allowed"
    allowed.mkdir(exist_ok=True)
    return serve_factory(database_url, ZENODO_EXPORT_WEB_FILES_DIRS=str(allowed), **settings)


@pytest.fixture
def api_on(serve_factory: ServeFactory, tmp_path: Path, database_url: str) -> Served:
    """``serve`` on each database, exporting from an allowed folder."""
    return serve_with_files(serve_factory, tmp_path, database_url)


@pytest.fixture
def api(serve_factory: ServeFactory, tmp_path: Path) -> Served:
    """``serve`` on SQLite, exporting from an allowed folder."""
    return serve_with_files(serve_factory, tmp_path)


def test_create_list_show_and_publish(api_on: Served) -> None:
    """An export made over HTTP is listed and shown with its job, then published by a worker."""
    made = create(api_on, "survey")
    assert made["state"] == "pending" and made["name"] == "survey"
    assert made["files_kept"].startswith("staged in the files store")
    listed = api_on.viewer.get("/api/v1/exports").json()
    assert listed["total"] == 1 and [e["id"] for e in listed["items"]] == [made["id"]]
    assert listed["next"] is None and listed["previous"] is None
    shown = api_on.viewer.get(f"/api/v1/exports/{made['id']}").json()
    assert shown["job"]["status"] == "queued" and "next free worker" in shown["waiting"]
    assert shown["alerts"] == [] and shown["versions"] == []
    run_worker(api_on)
    done = api_on.viewer.get(f"/api/v1/exports/{made['id']}").json()
    assert done["state"] == "done" and done["doi"] and done["url"] and done["job"] is None
    [file] = done["files"].values()
    assert file["md5"] == hashlib.md5(b"a,b\n1,2\n").hexdigest() and file["size"] == 8
    later = create(api_on, "survey")
    assert [v["id"] for v in api_on.viewer.get(f"/api/v1/exports/{later['id']}").json()[
        "versions"]] == [made["id"]]  # fmt: skip
    only_done = api_on.viewer.get("/api/v1/exports", params={"state": "done"}).json()
    assert [e["id"] for e in only_done["items"]] == [made["id"]] and only_done["total"] == 1
    found = api_on.viewer.get("/api/v1/exports", params={"q": "SURV", "type": "ZenodoDataExport"})
    assert found.json()["total"] == 2
    token = api_on.env["ZENODO_TOKEN"]
    assert token not in api_on.viewer.get(f"/api/v1/exports/{made['id']}").text


def test_retry_and_cancel(api_on: Served) -> None:
    """Cancel fails a queued export; retry queues it again and a worker publishes it."""
    made = create(api_on)
    url = f"/api/v1/exports/{made['id']}"
    cancelled = api_on.admin.post(f"{url}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["export"]["state"] == "failed"
    assert cancelled.json()["export"]["last_error"] == "cancelled by the user"
    error(api_on.admin.post(f"{url}/cancel"), 409)
    retried = api_on.admin.post(f"{url}/retry")
    assert retried.status_code == 200 and retried.json()["export"]["state"] == "pending"
    run_worker(api_on)
    assert api_on.viewer.get(url).json()["state"] == "done"
    assert "already done" in error(api_on.admin.post(f"{url}/retry"), 409)
    assert "published" in error(api_on.admin.post(f"{url}/cancel"), 409)


def test_pages_follow_next_and_previous(api_on: Served) -> None:
    """Keyset pages: ``next`` and ``previous`` walk the list; ``oldest`` is the last page."""
    api = api_on  # on each backend
    ids = [create(api, f"set-{n}")["id"] for n in range(5)]
    first = api.viewer.get("/api/v1/exports", params={"limit": 2}).json()
    assert [e["id"] for e in first["items"]] == ids[:2:-1][:2] and first["total"] == 5
    second = api.viewer.get(first["next"]).json()
    assert [e["id"] for e in second["items"]] == [ids[2], ids[1]]
    back = api.viewer.get(second["previous"]).json()
    assert [e["id"] for e in back["items"]] == [ids[4], ids[3]] and back["previous"] is None
    last = api.viewer.get("/api/v1/exports", params={"limit": 2, "oldest": "true"}).json()
    assert [e["id"] for e in last["items"]] == [ids[1], ids[0]] and last["next"] is None
    assert api.viewer.get(api.viewer.get(second["next"]).json()["previous"]).json() == second


def test_roles(api: Served) -> None:
    """No token: 401; a viewer reads but every action is 403 naming the role; nothing changes."""
    made = create(api)
    url = f"/api/v1/exports/{made['id']}"
    assert "Authorization: Bearer" in error(api.client().get("/api/v1/exports"), 401)
    error(api.client("zx_not-a-token").get(url), 401)
    error(api.client().post(f"{url}/retry"), 401)
    viewer = api.viewer
    assert viewer.get(url).status_code == 200
    body = metadata(files=[data_file(api, "v.csv")])
    for answer in (
        viewer.post("/api/v1/exports", json=body),
        viewer.post(f"{url}/retry"),
        viewer.post(f"{url}/cancel"),
        viewer.delete(url),
        viewer.patch(url, json={"title": "Changed"}),
        viewer.post("/api/v1/exports/upload", files={"files": ("x.csv", b"1")}),
    ):
        assert "viewer" in error(answer, 403)
    shown = viewer.get(url).json()
    assert {key: shown[key] for key in made} == made, "still queued, unchanged"
    assert viewer.get("/api/v1/exports").json()["total"] == 1


def test_bad_values_name_their_field(api: Served) -> None:
    """Bad filters, ids and bodies: 422 or 400 naming the field; unknown ids: 404."""
    viewer, admin = api.viewer, api.admin
    error(viewer.get("/api/v1/exports", params={"state": "lost"}), 422, "state")
    error(viewer.get("/api/v1/exports", params={"limit": 5000}), 422, "limit")
    error(viewer.get("/api/v1/exports", params={"created_from": "soon"}), 422, "created_from")
    error(viewer.get("/api/v1/exports", params={"q": "a\x00b"}), 400, "q")
    error(viewer.get("/api/v1/exports/abc"), 422, "export_id")
    error(viewer.get("/api/v1/exports/2147483648"), 422, "export_id")  # past PostgreSQL's int
    early = {"created_from": "0001-01-01T00:00:00+01:00"}
    error(viewer.get("/api/v1/exports", params=early), 400, "created_from")
    assert "export 999 does not exist" in error(viewer.get("/api/v1/exports/999"), 404)
    for answer in (
        admin.post("/api/v1/exports/999/retry"),
        admin.post("/api/v1/exports/999/cancel"),
        admin.delete("/api/v1/exports/999"),
        admin.patch("/api/v1/exports/999", json={"title": "x"}),
    ):
        error(answer, 404)
    path = data_file(api, "ok.csv")
    untitled = {**metadata(files=[path]), "title": None}
    error(admin.post("/api/v1/exports", json=untitled), 422, "title")
    error(admin.post("/api/v1/exports", json=metadata(files=[path], colour="red")), 422, "colour")
    bad_date = metadata(files=[path], publication_date="yesterday")
    error(admin.post("/api/v1/exports", json=bad_date), 400, "publication_date")
    error(admin.post("/api/v1/exports", json=metadata(files=[])), 400, "files")
    assert viewer.get("/api/v1/exports").json()["total"] == 0, "nothing was stored"


def test_files_must_lie_in_an_allowed_folder(api: Served, tmp_path: Path) -> None:
    """A relative path, a path outside the folders and a symlink out of them are refused."""
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    link = folder(api) / "link.csv"
    link.symlink_to(outside)
    inside = data_file(api, "fine.csv")
    for files, field in (
        (["fine.csv"], "files[0]"),
        ([inside, str(outside)], "files[1]"),
        ([str(link)], "files[0]"),
        ([str(folder(api) / ".." / "secret.txt")], "files[0]"),
    ):
        answer = api.admin.post("/api/v1/exports", json=metadata(files=files))
        error(answer, 400, field)
    assert api.viewer.get("/api/v1/exports").json()["total"] == 0
    assert store_files(api) == []


def test_creating_from_server_files_is_off_without_folders(served: Served) -> None:
    """Without ZENODO_EXPORT_WEB_FILES_DIRS, creating from paths is 403 saying what to set."""
    answer = served.admin.post("/api/v1/exports", json=metadata(files=["/etc/hostname"]))
    assert "ZENODO_EXPORT_WEB_FILES_DIRS" in error(answer, 403)


def test_delete_only_what_never_reached_zenodo(api_on: Served) -> None:
    """A queued export is deleted with its staged file; a published one is 409 and stays."""
    queued = create(api_on, "gone")
    assert len(store_files(api_on)) == 1
    deleted = api_on.admin.delete(f"/api/v1/exports/{queued['id']}")
    assert deleted.json() == {"id": queued["id"], "freed_bytes": 8}
    error(api_on.viewer.get(f"/api/v1/exports/{queued['id']}"), 404)
    assert store_files(api_on) == []
    published = create(api_on, "kept")
    run_worker(api_on)
    url = f"/api/v1/exports/{published['id']}"
    assert "reached Zenodo" in error(api_on.admin.delete(url), 409)
    assert api_on.viewer.get(url).json()["state"] == "done"


def test_edit_a_queued_export(api_on: Served) -> None:
    """PATCH changes a queued export's metadata; a name cannot change; a published one is 409."""
    api = api_on  # on each backend
    made = create(api)
    url = f"/api/v1/exports/{made['id']}"
    edited = api.admin.patch(url, json={"title": "A better title", "keywords": ["a", "b"]})
    assert edited.status_code == 200, edited.text
    assert edited.json()["changed"] == ["title", "keywords"]
    assert edited.json()["export"]["data"]["title"] == "A better title"
    error(api.admin.patch(url, json={"name": "other"}), 422, "name")
    error(api.admin.patch(url, json={"publication_date": "never"}), 400, "publication_date")
    run_worker(api)
    assert "published" in error(api.admin.patch(url, json={"title": "Too late"}), 409)


def multipart(files: list[tuple[str, bytes]], **fields: Any) -> dict[str, Any]:
    """httpx arguments for a multipart upload of ``files`` with metadata ``fields``."""
    data = {name: value for name, value in metadata(**fields).items()}
    return {"data": data, "files": [("files", (name, content)) for name, content in files]}


def test_upload_streams_files_into_the_store(served_on: Served) -> None:
    """A multipart upload stages its files and queues the export; a worker publishes them."""
    big = bytes(range(256)) * 4096  # 1 MiB: more than one chunk of the socket
    answer = served_on.admin.post(
        "/api/v1/exports/upload", **multipart([("big.bin", big), ("small.csv", b"x\n")])
    )
    assert answer.status_code == 201, answer.text
    made = answer.json()
    staged = {entry["name"]: entry for entry in made["data"]["staged"]}
    assert staged["big.bin"]["md5"] == hashlib.md5(big).hexdigest()
    assert staged["big.bin"]["size"] == len(big) and made["data"]["keywords"] == ["api"]
    run_worker(served_on)
    done = served_on.viewer.get(f"/api/v1/exports/{made['id']}").json()
    assert done["state"] == "done", done["last_error"]
    assert done["files"]["big.bin"] == {"size": len(big), "md5": hashlib.md5(big).hexdigest()}


def chunked(parts: bytes) -> Iterator[bytes]:
    """Send ``parts`` without a Content-Length, a little at a time."""
    for start in range(0, len(parts), 1000):
        yield parts[start : start + 1000]


def test_too_large_an_upload_is_413_and_leaves_nothing(
    serve_factory: ServeFactory, tmp_path: Path
) -> None:
    """Beyond ZENODO_EXPORT_WEB_UPLOAD_MAX_BYTES: 413, whether declared or streamed; no file or
    export is left behind, even of parts that fitted."""
    served = serve_factory(ZENODO_EXPORT_WEB_UPLOAD_MAX_BYTES="10000")
    upload = multipart([("fits.csv", b"1" * 6000), ("over.csv", b"2" * 6000)])
    declared = served.admin.post("/api/v1/exports/upload", **upload)
    assert "10000 bytes" in error(declared, 413, "files")
    request = served.admin.build_request("POST", "/api/v1/exports/upload", **upload)
    body = request.read()
    headers = {"Content-Type": request.headers["Content-Type"]}
    streamed = served.admin.post("/api/v1/exports/upload", content=chunked(body), headers=headers)
    error(streamed, 413, "files")
    huge = served.admin.post(
        "/api/v1/exports/upload", **multipart([("huge.bin", b"3" * 3_000_000)])
    )
    error(huge, 413, "files")
    assert store_files(served) == []
    assert served.viewer.get("/api/v1/exports").json()["total"] == 0
    fine = served.admin.post("/api/v1/exports/upload", **multipart([("fits.csv", b"1" * 6000)]))
    assert fine.status_code == 201, fine.text


def test_bad_uploads_name_their_field(served: Served) -> None:
    """Bad metadata, a stray part, an empty file or a body that is not multipart: 400 naming
    the field, and nothing kept."""
    post = served.admin.post
    error(post("/api/v1/exports/upload", **multipart([("a.csv", b"1")], license=" ")), 400,
          "license")  # fmt: skip
    error(post("/api/v1/exports/upload", **multipart([("a.csv", b"")])), 400, "files[0]")
    stray = multipart([("a.csv", b"1")])
    stray["data"]["colour"] = "red"
    error(post("/api/v1/exports/upload", **stray), 400, "colour")
    error(post("/api/v1/exports/upload", json=metadata()), 400, "body")
    assert store_files(served) == []
    assert served.viewer.get("/api/v1/exports").json()["total"] == 0
