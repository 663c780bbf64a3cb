"""Benchmark: a big ``curl -T`` bucket upload keeps the sandbox's memory flat and its md5 right.

Starts ``zenodo-export sandbox`` as a subprocess on a free port with a temp data dir, creates a
deposition, writes a file of seeded pseudo-random content (2 GiB by default), uploads it with
``curl -T FILE {bucket}/{key}``, and reads the server's resident memory from
``/proc/<pid>/status`` (VmRSS before, VmHWM after). Exits 1 if the server's md5 is wrong.

    .venv/bin/python benchmarks/sandbox_upload.py            # 2 GiB
    .venv/bin/python benchmarks/sandbox_upload.py --size 256M
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from zenodo_export.sandbox.config import parse_size

TOKEN = "benchmark-token"
BUDGET_MB = 100.0
"""Peak resident memory the sandbox may reach during the upload."""

BLOCK = 1024 * 1024


def free_port() -> int:
    """Return a port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def memory_mb(pid: int, field: str) -> float:
    """Return a memory figure (``VmRSS``, ``VmHWM``) of a process in MB (10^6 bytes)."""
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(rf"^{field}:\s+(\d+) kB", status, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"no {field} in /proc/{pid}/status")
    return int(match[1]) * 1024 / 10**6


def write_file(path: Path, size: int) -> str:
    """Write ``size`` pseudo-random bytes (seeded, so runs compare) and return their md5."""
    digest = hashlib.md5(usedforsecurity=False)
    generator = random.Random(2013)
    written = 0
    with path.open("wb") as out:
        while written < size:
            chunk = generator.randbytes(min(BLOCK, size - written))
            digest.update(chunk)
            out.write(chunk)
            written += len(chunk)
    return digest.hexdigest()


def start_sandbox(data_dir: Path, port: int) -> tuple[subprocess.Popen[str], str]:
    """Start the CLI and return the process and its API URL."""
    argv = [
        sys.executable, "-m", "zenodo_export", "sandbox", "--port", str(port),
        "--data-dir", str(data_dir), "--token", TOKEN, "--no-access-log", "--rate-limit", "off",
    ]  # fmt: skip
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    match = re.search(r"serving (\S+)", line)
    if match is None:
        process.kill()
        raise RuntimeError(f"sandbox did not start: {line!r}")
    return process, match[1]


def upload_with_curl(path: Path, url: str) -> tuple[float, dict[str, object]]:
    """PUT ``path`` with ``curl -T``; return the seconds taken and the JSON answer."""
    started = time.monotonic()
    auth = f"Authorization: Bearer {TOKEN}"
    result = subprocess.run(
        ["curl", "-sS", "--fail-with-body", "-T", str(path), "-H", auth, url],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    seconds = time.monotonic() - started
    if result.returncode != 0:
        raise RuntimeError(f"curl failed ({result.returncode}): {result.stderr or result.stdout}")
    return seconds, json.loads(result.stdout)


def run(size: int, workdir: Path) -> bool:
    """Run the benchmark in ``workdir``; print the figures and return whether the md5 matched."""
    process, api_url = start_sandbox(workdir / "data", free_port())
    try:
        with httpx.Client(base_url=api_url, headers={"Authorization": f"Bearer {TOKEN}"}) as api:
            bucket = api.post("deposit/depositions", json={}).json()["links"]["bucket"]
        source = workdir / "upload.bin"
        local_md5 = write_file(source, size)
        baseline = memory_mb(process.pid, "VmRSS")
        seconds, answer = upload_with_curl(source, f"{bucket}/upload.bin")
        peak = memory_mb(process.pid, "VmHWM")
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()
    md5_ok = answer.get("checksum") == f"md5:{local_md5}" and answer.get("size") == size
    print(f"size: {size} bytes ({size / 2**30:.2f} GiB)")
    print(f"seconds: {seconds:.1f}")
    print(f"throughput: {size / 10**6 / seconds:.0f} MB/s")
    print(f"baseline RSS: {baseline:.1f} MB")
    print(f"peak RSS (VmHWM): {peak:.1f} MB")
    print(f"peak / {BUDGET_MB:.0f} MB budget: {peak / BUDGET_MB:.2f}")
    print(f"md5 ok: {md5_ok} (local md5:{local_md5}, server {answer.get('checksum')})")
    return md5_ok


def main() -> int:
    """Parse the arguments, run the benchmark in a temp dir, clean up."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--size", default="2GiB", help="bytes to upload, e.g. 2GiB, 256M (default 2GiB)"
    )
    args = parser.parse_args()
    if shutil.which("curl") is None:
        print("curl is needed", file=sys.stderr)
        return 2
    size = parse_size(args.size)
    with tempfile.TemporaryDirectory(prefix="sandbox-bench-", dir=os.environ.get("TMPDIR")) as tmp:
        ok = run(size, Path(tmp))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
