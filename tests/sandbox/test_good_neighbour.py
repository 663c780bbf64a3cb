"""The sandbox as a good neighbour: its files, its admin endpoints, its limits and its logs."""

from __future__ import annotations

import json
import logging
import os
import select
import signal
import socket
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fixtures.sandbox import SandboxFactory
from tests.sandbox.helpers import client, create
from zenodo_export.errors import ConfigError
from zenodo_export.sandbox import RunningSandbox, build_config
from zenodo_export.sandbox.server import ACCESS_LOGGER, exposure_warning, redact
from zenodo_export.sandbox.storage import TEMP_MARKER, TEMP_PREFIX

pytestmark = pytest.mark.hostile

COMMAND = [sys.executable, "-m", "zenodo_export", "sandbox"]
MIB = 2**20


def _dead_pid() -> int:
    """Return the pid of a process that has just ended."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_foreign_files_in_the_data_dir_are_kept(
    tmp_path: Path, sandbox_factory: SandboxFactory
) -> None:
    """A foreign tmp/keep.txt and an unmarked .sandbox-tmp-x survive a start, uploads and a stop."""
    (tmp_path / "tmp").mkdir()
    (tmp_path / "tmp" / "keep.txt").write_text("mine")
    unmarked = tmp_path / f"{TEMP_PREFIX}mine"
    unmarked.mkdir()
    (unmarked / "keep.txt").write_text("mine too")
    sandbox = sandbox_factory(data_dir=tmp_path)
    with client(sandbox) as api:
        dep = create(api)
        assert api.put(f"{dep['links']['bucket']}/a.csv", content=b"1").status_code == 201
    sandbox.stop()
    assert (tmp_path / "tmp" / "keep.txt").read_text() == "mine"
    assert (unmarked / "keep.txt").read_text() == "mine too"
    assert sorted(p.name for p in tmp_path.glob(f"{TEMP_PREFIX}*")) == [unmarked.name]


def test_only_marked_temp_dirs_of_gone_processes_are_removed(
    tmp_path: Path, sandbox_factory: SandboxFactory
) -> None:
    """A marked temp dir of a dead pid goes at start; one of a live pid (ours) stays."""
    stale = tmp_path / f"{TEMP_PREFIX}stale"
    stale.mkdir()
    (stale / TEMP_MARKER).write_text(f"{_dead_pid()}\n")
    live = tmp_path / f"{TEMP_PREFIX}live"
    live.mkdir()
    (live / TEMP_MARKER).write_text(f"{os.getppid()}\n")
    sandbox_factory(data_dir=tmp_path)
    assert not stale.exists()
    assert live.exists()


def test_admin_post_needs_json(sandbox: RunningSandbox) -> None:
    """An admin POST sent as text/plain (a cross-site form) is 415; as JSON it works."""
    rule = '{"path": "^/api/", "action": "fail", "status": 500}'
    for kind in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data"):
        response = httpx.post(
            f"{sandbox.admin_url}faults", content=rule, headers={"Content-Type": kind}
        )
        assert response.status_code == 415, kind
        assert response.json()["status"] == 415
    settings = httpx.post(
        f"{sandbox.admin_url}settings", content='{"list_lag_seconds": 3}',
        headers={"Content-Type": "text/plain"},
    )  # fmt: skip
    assert settings.status_code == 415
    assert sandbox.admin("GET", "faults") == {"faults": []}
    assert sandbox.admin("GET", "settings")["list_lag_seconds"] == 0
    response = httpx.post(
        f"{sandbox.admin_url}faults", content=rule, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 201
    assert len(sandbox.admin("GET", "faults")["faults"]) == 1


def test_admin_token_is_required_when_set(sandbox_factory: SandboxFactory) -> None:
    """With admin_token, admin calls need it as Bearer (403 otherwise); health stays open."""
    sandbox = sandbox_factory(admin_token="s3cret")
    assert httpx.get(f"{sandbox.admin_url}health").status_code == 200
    rule = {"path": "^/api/", "action": "fail"}
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret"}):
        assert (
            httpx.post(f"{sandbox.admin_url}faults", json=rule, headers=headers).status_code == 403
        )
        assert httpx.get(f"{sandbox.admin_url}depositions", headers=headers).status_code == 403
        assert httpx.delete(f"{sandbox.admin_url}stats", headers=headers).status_code == 403
    good = {"Authorization": "Bearer s3cret"}
    assert httpx.post(f"{sandbox.admin_url}faults", json=rule, headers=good).status_code == 201
    assert sandbox.admin("GET", "faults")["faults"][0]["action"] == "fail"  # the helper sends it
    assert "s3cret" not in repr(sandbox.config)


def test_a_2_mib_json_body_is_413_unread(sandbox: RunningSandbox) -> None:
    """A 2 MiB JSON body declared by Content-Length is 413 (Zenodo JSON) before it is sent."""
    host, port = sandbox.base_url.removeprefix("http://").rsplit(":", 1)
    head = (
        f"POST /api/deposit/depositions HTTP/1.1\r\nHost: {host}\r\n"
        f"Authorization: Bearer {sandbox.token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {2 * MIB}\r\n\r\n"
    ).encode()
    start = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        # Only the headers and a few bytes go out: the answer must come without the rest.
        sock.sendall(head + b'{"metadata": {"description": "')
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert time.monotonic() - start < 5
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 413 Request Entity Too Large", status_line
    assert json.loads(rest.partition(b"\r\n\r\n")[2]) == {
        "status": 413,
        "message": "The data value transmitted exceeds the capacity limit.",
    }
    assert sandbox.admin("GET", "depositions") == []


def test_a_chunked_json_body_over_the_cap_keeps_memory_bounded(
    sandbox_factory: SandboxFactory,
) -> None:
    """A chunked 2 MiB body is read only up to the cap (64 KiB here): 413, memory flat."""
    sandbox = sandbox_factory(max_json_bytes="64KiB")

    def body() -> Iterator[bytes]:
        yield b'{"faults": "'
        for _ in range(32):
            yield b"x" * (64 * 1024)

    tracemalloc.start()
    try:
        response = httpx.post(
            f"{sandbox.admin_url}faults", content=body(),
            headers={"Content-Type": "application/json"}, timeout=10,
        )  # fmt: skip
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 413
    assert peak < MIB, peak


def test_deeply_nested_json_is_400(api: httpx.Client) -> None:
    """JSON nested 100,000 deep is 400, not a server error."""
    response = api.post(
        "deposit/depositions", content=b"[" * 100_000, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400


def test_a_catastrophic_fault_regex_is_refused_at_add_time(sandbox: RunningSandbox) -> None:
    """(a+)+$ is refused with one line by the admin endpoint and by the flag parser."""
    response = httpx.post(f"{sandbox.admin_url}faults", json={"path": "(a+)+$", "action": "fail"})
    assert response.status_code == 400
    message = response.json()["message"]
    assert "(a+)+$" in message and "\n" not in message
    assert sandbox.admin("GET", "faults") == {"faults": []}
    for rule in ("GET (a+)+$ fail", "GET (x|xx)*$ fail", f"GET {'a' * 201} fail"):
        with pytest.raises(ConfigError) as raised:
            build_config(sandbox.config.data_dir, faults=[rule])
        assert "\n" not in str(raised.value)
    ok = build_config(sandbox.config.data_dir, faults=[r"POST ^/api/deposit/depositions/\d+$ fail"])
    assert ok.faults[0].matches("POST", "/api/deposit/depositions/12")


def test_a_non_loopback_bind_warns(tmp_path: Path) -> None:
    """`sandbox --host 0.0.0.0` warns in one line on stderr; the admin token comes from env."""
    argv = [*COMMAND, "--host", "0.0.0.0", "--port", "0", "--data-dir", str(tmp_path)]
    env = os.environ | {"ZENODO_EXPORT_SANDBOX_ADMIN_TOKEN": "from-env"}
    process = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        assert process.stderr is not None and process.stdout is not None
        ready, _, _ = select.select([process.stderr], [], [], 20)
        assert ready, "no warning within 20 s"
        line = process.stderr.readline()
        ready, _, _ = select.select([process.stdout], [], [], 20)
        assert ready, "no banner within 20 s"
        banner = [process.stdout.readline() for _ in range(4)]
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            assert stream is not None
            stream.close()
    assert line.startswith("warning: the sandbox listens on 0.0.0.0"), line
    assert "--admin-token" in line
    assert "(admin token required)" in banner[3], banner


def test_the_warning_is_for_non_loopback_addresses_only() -> None:
    """Loopback addresses and localhost give no warning; wildcard and other addresses do."""
    for host in ("127.0.0.1", "127.0.0.2", "::1", "localhost"):
        assert exposure_warning(host) is None, host
    for host in ("0.0.0.0", "::", "192.168.1.5", "example.org"):
        assert exposure_warning(host) is not None, host


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_the_access_log_redacts_access_token(sandbox_factory: SandboxFactory) -> None:
    """A request with ?access_token= is logged as access_token=***."""
    sandbox = sandbox_factory(access_log=True)
    handler = _Lines()
    logger = logging.getLogger(ACCESS_LOGGER)
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        url = f"{sandbox.api_url}deposit/depositions?page=1&access_token={sandbox.token}&size=2"
        assert httpx.get(url).status_code == 200
        deadline = time.monotonic() + 5
        while not handler.lines and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert any("access_token=***&size=2" in line for line in handler.lines), handler.lines
    assert not any(sandbox.token in line for line in handler.lines)
    assert redact("/x?ACCESS_TOKEN=abc") == "/x?ACCESS_TOKEN=***"


def test_invalid_utf8_json_is_400(sandbox: RunningSandbox, api: httpx.Client) -> None:
    """A JSON body that is not UTF-8 is 400, on the API and on the admin endpoints."""
    body = b'{"metadata": {"title": "\xff\xfe"}}'
    headers = {"Content-Type": "application/json"}
    assert api.post("deposit/depositions", content=body, headers=headers).status_code == 400
    response = httpx.post(f"{sandbox.admin_url}settings", content=body, headers=headers)
    assert response.status_code == 400
    assert sandbox.admin("GET", "depositions") == []
