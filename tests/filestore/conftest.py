"""Fixtures for the files store: a real S3 server (moto's, on loopback), CLI and worker helpers.

``moto_server`` runs ``moto_server -H 127.0.0.1 -p PORT`` as a real process, once per test
session (skipped if moto is not installed). ``s3`` gives each test a fresh bucket on it and
puts dummy credentials and ``AWS_ENDPOINT_URL`` in the test's environment; ``s3.env`` is what
CLI and worker processes add to theirs. Nothing leaves the loopback interface.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.cli import CLI, sandbox_environment
from tests.localio.conftest import obeys_permissions, small_disk  # noqa: F401  (fixtures)

REGION = "us-east-1"

EXPORT_ARGS = (
    "--name",
    "filestore_report",
    "--title",
    "Files store report",
    "--description",
    "A report staged in the files store.",
    "--keyword",
    "store",
    "--creator",
    "Doe, Jane",
    "--publication-date",
    "2026-10-10",
    "--code-repository-url",
    "https://github.com/lagotto/lagotto",
)
"""The metadata of every export these tests create."""

AWS_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
)
"""Variables botocore reads credentials or an endpoint from (removed unless a test sets them)."""


def free_port() -> int:
    """Return a TCP port of 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def moto_command(port: int) -> list[str]:
    """The command line of moto's standalone server on ``127.0.0.1:port``."""
    script = Path(sys.executable).parent / "moto_server"
    head = [str(script)] if script.exists() else [sys.executable, "-m", "moto.server"]
    return [*head, "-H", "127.0.0.1", "-p", str(port)]


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Run moto's S3 server on a free loopback port for the session; yield its endpoint URL."""
    pytest.importorskip("moto.server", reason="moto[server] is not installed")
    pytest.importorskip("s3fs", reason="s3fs is not installed")
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    for _ in range(5):  # the port may be taken between probing and binding
        port = free_port()
        with log.open("ab") as out:
            process = subprocess.Popen(
                moto_command(port), stdout=out, stderr=subprocess.STDOUT, cwd=log.parent
            )
        deadline = time.monotonic() + 30
        while process.poll() is None and time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            time.sleep(0.05)
        else:
            process.kill()
            process.wait(timeout=10)
            continue
        break
    else:
        pytest.fail(f"moto's server did not start; its log:\n{log.read_text()}")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@dataclass
class S3:
    """A fresh bucket on the test's S3 server, and the environment that reaches it."""

    endpoint: str
    bucket: str
    env: dict[str, str] = field(default_factory=dict)

    def url(self, prefix: str = "exports") -> str:
        """The ``ZENODO_EXPORT_STORAGE`` of a store under ``prefix`` of the bucket."""
        return f"s3://{self.bucket}/{prefix}"

    def client(self) -> Any:
        """A boto3 client of the server (the tests' own view, independent of s3fs's caches)."""
        import boto3  # type: ignore[import-untyped]  # (no stubs installed)

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"],
        )

    def keys(self, prefix: str = "") -> dict[str, int]:
        """Every key of the bucket under ``prefix`` with its size."""
        found: dict[str, int] = {}
        pages = self.client().get_paginator("list_objects_v2")
        for page in pages.paginate(Bucket=self.bucket, Prefix=prefix):
            found.update({item["Key"]: int(item["Size"]) for item in page.get("Contents", [])})
        return found

    def body(self, key: str) -> bytes:
        """The content of ``key``."""
        return bytes(self.client().get_object(Bucket=self.bucket, Key=key)["Body"].read())

    def uploads_in_progress(self, prefix: str = "") -> list[str]:
        """Keys of multipart uploads begun and neither completed nor aborted."""
        listed = self.client().list_multipart_uploads(Bucket=self.bucket, Prefix=prefix)
        return [item["Key"] for item in listed.get("Uploads", [])]

    def parts_in_progress(self, prefix: str = "") -> int:
        """Bytes of the parts that uploads in progress under ``prefix`` hold."""
        client = self.client()
        listed = client.list_multipart_uploads(Bucket=self.bucket, Prefix=prefix)
        return sum(
            int(part["Size"])
            for upload in listed.get("Uploads", [])
            for part in client.list_parts(
                Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
            ).get("Parts", [])
        )


def no_aws_settings(monkeypatch: pytest.MonkeyPatch, home: Path) -> dict[str, str]:
    """Remove every AWS credential source from this process; return the variables that keep
    botocore off ``~/.aws`` and the instance metadata service (set here too)."""
    for name in AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    home.mkdir(parents=True, exist_ok=True)
    empty = home / "empty-aws-file"
    empty.touch()
    env = {
        "AWS_SHARED_CREDENTIALS_FILE": str(empty),
        "AWS_CONFIG_FILE": str(empty),
        "AWS_EC2_METADATA_DISABLED": "true",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def s3(moto_server: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> S3:
    """A new bucket on the S3 server; dummy credentials and the endpoint in the environment."""
    env = {
        **no_aws_settings(monkeypatch, tmp_path / "aws"),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ENDPOINT_URL": moto_server,
        "AWS_DEFAULT_REGION": REGION,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    bucket = S3(moto_server, f"zx-{uuid.uuid4().hex[:16]}", env)
    bucket.client().create_bucket(Bucket=bucket.bucket)
    return bucket


# -- processes ---------------------------------------------------------------------------


def process_env(sandbox: Any, tmp_path: Path, storage: str | None, **extra: str) -> dict[str, str]:
    """The environment of a CLI or worker process of this test (``storage``: the store)."""
    stored = {"ZENODO_EXPORT_STORAGE": storage} if storage is not None else {}
    return sandbox_environment(
        sandbox, tmp_path, ZENODO_EXPORT_LEASE_SECONDS="2", **stored, **extra
    )


def run(
    env: dict[str, str], *args: str, timeout: float = 120, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    """Run ``zenodo-export ARGS...`` to its end; return the finished process (text output)."""
    return subprocess.run(
        [*CLI, *args], env=env, capture_output=True, text=True, timeout=timeout, **kwargs
    )


def export(env: dict[str, str], *files: Path, **kwargs: Any) -> int:
    """Queue an export of ``files`` through the CLI; return its id."""
    done = run(env, "export", *map(str, files), *EXPORT_ARGS, **kwargs)
    assert done.returncode == 0, done.stderr
    return int(done.stdout.strip())


def listed(env: dict[str, str]) -> list[dict[str, Any]]:
    """Every export, as ``zenodo-export list --json`` shows it (newest first)."""
    done = run(env, "list", "--json")
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout))


def shown(env: dict[str, str], export_id: int) -> dict[str, Any]:
    """One export, as ``zenodo-export show --json`` shows it."""
    done = run(env, "show", str(export_id), "--json")
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def holds_open(pid: int, path: Path) -> bool:
    """Say whether process ``pid`` has ``path`` open (read from ``/proc``)."""
    fds = Path(f"/proc/{pid}/fd")
    with contextlib.suppress(OSError):
        for fd in fds.iterdir():
            with contextlib.suppress(OSError):
                if os.readlink(fd) == str(path):
                    return True
    return False


def big_file(path: Path, megabytes: int, seed: int = 0) -> Path:
    """Write ``megabytes`` MiB of content that differs per ``seed`` (fast: one repeated block)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    block = (uuid.UUID(int=seed).bytes + bytes(range(256))) * 4096
    with path.open("wb") as out:
        for index in range(megabytes * 1024 * 1024 // len(block) + 1):
            out.write(index.to_bytes(8, "big") + block[8:])
    return path


def md5_hex(path: Path) -> str:
    """The md5 of a local file."""
    import hashlib

    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as stream:
        while chunk := stream.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_hex(path: Path) -> str:
    """The sha256 of a local file (its blob key's name)."""
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()
