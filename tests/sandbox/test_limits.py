"""Conformance: files per record, bytes per file and per record, with Zenodo's quota errors."""

from __future__ import annotations

from collections.abc import Iterator

from tests.fixtures.sandbox import SandboxFactory
from tests.sandbox.helpers import client, create, upload, uploads_in_progress


def test_one_file_too_many_is_400(sandbox_factory: SandboxFactory) -> None:
    """With max_files=2 a third key is refused; overwriting an existing key is still fine."""
    sandbox = sandbox_factory(max_files=2)
    with client(sandbox) as api:
        dep = create(api)
        assert upload(api, dep, "a", b"1").status_code == 201
        assert upload(api, dep, "b", b"2").status_code == 201
        third = upload(api, dep, "c", b"3")
        assert third.status_code == 400
        assert "too many files" in third.json()["message"]
        assert upload(api, dep, "b", b"22").status_code == 201
        assert sorted(f["filename"] for f in api.get(dep["links"]["files"]).json()) == ["a", "b"]


def test_a_file_over_the_file_limit_is_400_and_not_stored(sandbox_factory: SandboxFactory) -> None:
    """A file above max_file_bytes gets 'Maximum file size exceeded.' and is not kept."""
    sandbox = sandbox_factory(max_file_bytes=10)
    with client(sandbox) as api:
        dep = create(api)
        response = upload(api, dep, "big", b"x" * 11)
        assert response.status_code == 400
        assert response.json() == {"status": 400, "message": "Maximum file size exceeded."}
        assert upload(api, dep, "fits", b"x" * 10).status_code == 201
        assert [f["filename"] for f in api.get(dep["links"]["files"]).json()] == ["fits"]


def test_files_over_the_record_quota_are_400(sandbox_factory: SandboxFactory) -> None:
    """Files adding up past max_record_bytes get 'Bucket quota exceeded.'."""
    sandbox = sandbox_factory(max_record_bytes=15, max_file_bytes=10)
    with client(sandbox) as api:
        dep = create(api)
        assert upload(api, dep, "a", b"x" * 8).status_code == 201
        response = upload(api, dep, "b", b"y" * 8)
        assert response.status_code == 400
        assert response.json()["message"] == "Bucket quota exceeded."


def test_a_chunked_upload_is_cut_off_at_the_limit(sandbox_factory: SandboxFactory) -> None:
    """Without Content-Length the limit is enforced while streaming, and nothing is kept."""
    sandbox = sandbox_factory(max_file_bytes="1K")
    with client(sandbox) as api:
        dep = create(api)

        def body() -> Iterator[bytes]:
            yield b"z" * 600
            yield b"z" * 600

        response = api.put(f"{dep['links']['bucket']}/big", content=body())
        assert response.status_code == 400
        assert api.get(dep["links"]["files"]).json() == []
        assert uploads_in_progress(sandbox) == []


def test_default_limits_are_zenodos(sandbox_factory: SandboxFactory) -> None:
    """By default: 100 files, 50 GB per file and per record (decimal)."""
    sandbox = sandbox_factory()
    settings = sandbox.admin("GET", "settings")
    assert (settings["max_files"], settings["max_file_bytes"], settings["max_record_bytes"]) == (
        100, 50 * 10**9, 50 * 10**9,
    )  # fmt: skip
