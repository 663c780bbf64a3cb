"""Conformance: files of a deposition, the old multipart upload and the bucket API."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from tests.fixtures.sandbox import SandboxFactory
from tests.sandbox.helpers import METADATA, client, create, md5, publishable, published, upload
from zenodo_export.sandbox import RunningSandbox

CHECKSUM_123 = "66ce05ea43c73b8e33c74c12d0371bc9"
"""md5 of b"1, 2, 3", as Zenodo's own test asserts."""


def test_bucket_put_answers_201_with_an_md5_checksum(api: httpx.Client) -> None:
    """A bucket PUT stores the raw body and answers the bucket object with ``md5:``."""
    dep = create(api)
    response = upload(api, dep, "data.csv", b"1, 2, 3")
    assert response.status_code == 201
    body = response.json()
    assert (body["key"], body["size"], body["checksum"]) == ("data.csv", 7, f"md5:{CHECKSUM_123}")
    assert body["is_head"] is True and body["delete_marker"] is False
    assert set(body["links"]) == {"self", "version", "uploads"}


def test_bucket_put_of_the_same_key_overwrites(api: httpx.Client) -> None:
    """Uploading a key again replaces the file: one file, the new content."""
    dep = create(api)
    upload(api, dep, "data.csv", b"old")
    upload(api, dep, "data.csv", b"new content")
    files = api.get(dep["links"]["files"]).json()
    assert [(f["filename"], f["filesize"], f["checksum"]) for f in files] == [
        ("data.csv", 11, md5(b"new content"))
    ]
    assert api.get(f"{dep['links']['bucket']}/data.csv").content == b"new content"


def test_bucket_put_streams_a_large_chunked_body(api: httpx.Client) -> None:
    """A body sent in many chunks without Content-Length is stored whole with the right md5."""
    dep = create(api)
    chunk = bytes(range(256)) * 4096

    def body() -> Iterator[bytes]:
        for _ in range(8):
            yield chunk

    response = api.put(f"{dep['links']['bucket']}/big.bin", content=body())
    assert response.status_code == 201
    assert response.json()["size"] == len(chunk) * 8
    assert response.json()["checksum"] == f"md5:{md5(chunk * 8)}"


def test_bucket_get_lists_contents_and_serves_objects(api: httpx.Client) -> None:
    """GET on the bucket lists its objects; GET on an object streams its content."""
    dep = create(api)
    upload(api, dep, "a.txt", b"aaa")
    upload(api, dep, "b.txt", b"bb")
    bucket = api.get(dep["links"]["bucket"])
    assert bucket.status_code == 200
    assert sorted(o["key"] for o in bucket.json()["contents"]) == ["a.txt", "b.txt"]
    assert api.get(f"{dep['links']['bucket']}/b.txt").content == b"bb"


def test_bucket_delete_removes_the_file_then_answers_500(api: httpx.Client) -> None:
    """As on Zenodo today (zenodo/zenodo#2561) a bucket DELETE removes the file, then says 500."""
    dep = create(api)
    upload(api, dep, "a.txt", b"aaa")
    response = api.delete(f"{dep['links']['bucket']}/a.txt")
    assert response.status_code == 500
    assert response.json()["status"] == 500
    assert api.get(dep["links"]["files"]).json() == []


def test_bucket_delete_answers_204_when_configured(sandbox_factory: SandboxFactory) -> None:
    """With bucket_delete_500 off, a bucket DELETE answers 204."""
    sandbox = sandbox_factory(bucket_delete_500=False)
    with client(sandbox) as api:
        dep = create(api)
        upload(api, dep, "a.txt", b"aaa")
        assert api.delete(f"{dep['links']['bucket']}/a.txt").status_code == 204
        assert api.get(f"{dep['links']['bucket']}/a.txt").status_code == 404


def test_a_key_with_a_slash_matches_no_route(api: httpx.Client) -> None:
    """``PUT {bucket}/dir/a.txt`` is 404: the key is one path segment."""
    dep = create(api)
    assert upload(api, dep, "dir/a.txt", b"x").status_code == 404
    assert api.get(dep["links"]["files"]).json() == []


def test_a_published_bucket_is_locked(api: httpx.Client) -> None:
    """After publishing, a bucket PUT is 403 'Bucket is locked for modifications.'."""
    dep = published(api)
    response = upload(api, dep, "more.csv", b"x")
    assert response.status_code == 403
    assert response.json()["message"] == "Bucket is locked for modifications."


def _raw_put(sandbox: RunningSandbox, path: str, declared: int, body: bytes) -> bytes:
    """Send a PUT whose Content-Length is ``declared`` but whose body is ``body``."""
    url = urlsplit(sandbox.base_url)
    head = (
        f"PUT {path} HTTP/1.1\r\nHost: {url.netloc}\r\n"
        f"Authorization: Bearer {sandbox.token}\r\nContent-Length: {declared}\r\n\r\n"
    )
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(head.encode() + body)
        answer = b""
        while not answer.endswith(b"}") and (chunk := sock.recv(65536)):
            answer += chunk
    return answer


@pytest.mark.parametrize(("declared", "sent"), [(100, 60), (10, 40)], ids=["shorter", "longer"])
def test_a_body_not_matching_content_length_stores_nothing(
    sandbox_factory: SandboxFactory, declared: int, sent: int
) -> None:
    """A body shorter or longer than its Content-Length gets 400 and no file is stored."""
    sandbox = sandbox_factory(body_idle_timeout=0.3)
    with client(sandbox) as api:
        dep = create(api)
        path = urlsplit(dep["links"]["bucket"]).path + "/odd.bin"
        answer = _raw_put(sandbox, path, declared, b"x" * sent)
        assert answer.startswith(b"HTTP/1.1 400")
        assert b"Content-Length does not match file size." in answer
        assert api.get(dep["links"]["files"]).json() == []


def test_deposition_files_can_be_listed_fetched_and_deleted(api: httpx.Client) -> None:
    """The files endpoints list, get and delete (204) a draft's files; unknown ids are 404."""
    dep = publishable(api)
    files = api.get(dep["links"]["files"]).json()
    assert len(files) == 1
    one = api.get(files[0]["links"]["self"])
    assert one.json()["filename"] == "data.csv"
    assert api.get(f"{dep['links']['files']}/no-such-id").status_code == 404
    assert api.delete(files[0]["links"]["self"]).status_code == 204
    assert api.get(dep["links"]["files"]).json() == []


def test_deleting_a_file_of_a_published_deposition_is_403(api: httpx.Client) -> None:
    """A published deposition's files cannot be deleted."""
    dep = published(api)
    file_url = dep["files"][0]["links"]["self"]
    assert api.delete(file_url).status_code == 403
    assert len(api.get(dep["links"]["files"]).json()) == 1


def test_sorting_and_renaming_files_are_405(api: httpx.Client) -> None:
    """PUT on the files list (sort) or on a file (rename) is not implemented: 405."""
    dep = publishable(api)
    file_url = api.get(dep["links"]["files"]).json()[0]["links"]["self"]
    assert api.put(dep["links"]["files"], json=[]).status_code == 405
    assert api.put(file_url, json={"filename": "x.csv"}).status_code == 405


def test_multipart_upload_makes_the_name_safe(api: httpx.Client) -> None:
    """The old multipart upload answers 201 and stores the name through secure_filename."""
    dep = create(api)
    response = api.post(
        dep["links"]["files"], data={"name": "my file é.csv"}, files={"file": ("x", b"a,b\n")}
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["filename"], body["filesize"], body["checksum"]) == (
        "my_file_e.csv",
        4,
        md5(b"a,b\n"),
    )


def test_multipart_upload_of_an_existing_name_fails(api: httpx.Client) -> None:
    """The old upload does not overwrite: the same name again is a 400."""
    dep = create(api)
    api.post(dep["links"]["files"], files={"file": ("a.csv", b"1")})
    assert api.post(dep["links"]["files"], files={"file": ("a.csv", b"2")}).status_code == 400


def test_multipart_upload_over_the_cap_is_413(sandbox_factory: SandboxFactory) -> None:
    """A multipart request above the cap (100 MB on Zenodo) is 413 and stores nothing."""
    sandbox = sandbox_factory(multipart_max_bytes="1K")
    with client(sandbox) as api:
        dep = create(api)
        response = api.post(dep["links"]["files"], files={"file": ("a.bin", b"z" * 2000)})
        assert response.status_code == 413
        assert (
            response.json()["message"] == "The data value transmitted exceeds the capacity limit."
        )
        assert api.get(dep["links"]["files"]).json() == []


def test_multipart_upload_after_publish_is_404(api: httpx.Client) -> None:
    """The old upload on a published deposition is 404."""
    dep = published(api)
    assert api.post(dep["links"]["files"], files={"file": ("b.csv", b"1")}).status_code == 404


def test_the_three_file_shapes_differ_as_on_zenodo(api: httpx.Client) -> None:
    """Deposition files: filename/filesize/bare hex; bucket and record: key/size/md5:."""
    dep = published(api)
    view = dep["files"][0]
    assert set(view) == {"id", "filename", "filesize", "checksum", "links"}
    assert view["checksum"] == CHECKSUM_123
    obj = api.get(dep["links"]["bucket"]).json()["contents"][0]
    assert (obj["key"], obj["size"], obj["checksum"]) == ("data.csv", 7, f"md5:{CHECKSUM_123}")
    record = api.get(dep["links"]["record"]).json()["files"][0]
    assert (record["key"], record["size"], record["checksum"]) == (
        "data.csv",
        7,
        f"md5:{CHECKSUM_123}",
    )
    assert record["links"]["self"].endswith(f"/records/{dep['id']}/files/data.csv/content")
    assert api.get(view["links"]["download"]).content == b"1, 2, 3"


def test_metadata_helper_is_publishable(api: httpx.Client) -> None:
    """The shared test metadata passes publication (guards the helpers)."""
    dep = create(api, METADATA)
    upload(api, dep, "x.txt", b"x")
    assert api.post(dep["links"]["publish"]).status_code == 202
