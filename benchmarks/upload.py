"""Benchmark the export pipeline against the local sandbox; run by hand.

Measures, in one run, each against a reference measured in the same run:

1. throughput: a whole export (create, streaming upload with md5, publish) of one big file vs
   ``curl -T`` of the same file into a bucket of the same sandbox (goal: ratio <= 1.05);
2. memory: the worker process's peak RSS exporting a small and a big file (goal: <= 80 MB
   and flat, i.e. the big one no more than ~10% above the small one);
3. overhead: seconds per export of a 1 KiB file in a running worker, vs the irreducible HTTP
   calls of an export (create, upload, publish) made straight with httpx (goal: <= 0.05 s).

    python benchmarks/upload.py                 # 2 GiB and 256 MiB, 50 small exports
    python benchmarks/upload.py --big 512MiB --small 64MiB --exports 20   # quicker
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

CLI = [sys.executable, "-m", "zenodo_export"]
TOKEN = "bench-token"
UNITS = {"KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "K": 10**3, "M": 10**6, "G": 10**9, "": 1}


def parse_size(text: str) -> int:
    """Parse ``2GiB``, ``256MiB``, ``1000``."""
    match = re.fullmatch(r"(\d+)\s*([A-Za-z]*)", text.strip())
    if not match or match.group(2).upper() not in UNITS:
        raise argparse.ArgumentTypeError(f"bad size {text!r}")
    return int(match.group(1)) * UNITS[match.group(2).upper()]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_file(path: Path, size: int) -> str:
    """Write ``size`` bytes of varied content; return their md5."""
    digest = hashlib.md5()
    block = os.urandom(1 << 20)
    with path.open("wb") as stream:
        written = 0
        while written < size:
            chunk = (block[written % 997 :] + block[: written % 997])[
                : min(1 << 20, size - written)
            ]
            stream.write(chunk)
            digest.update(chunk)
            written += len(chunk)
    return digest.hexdigest()


def peak_rss_mb(pid: int) -> float | None:
    """Read a process's peak resident set (VmHWM) in MB, None once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"VmHWM:\s+(\d+) kB", status)
    return int(match.group(1)) / 1024 if match else None


def watch_peak(process: subprocess.Popen[Any]) -> list[float]:
    """Follow a process's peak RSS in a thread; the list holds the latest reading."""
    seen: list[float] = [0.0]

    def poll() -> None:
        while process.poll() is None:
            value = peak_rss_mb(process.pid)
            if value is not None:
                seen[0] = max(seen[0], value)
            time.sleep(0.05)

    threading.Thread(target=poll, daemon=True).start()
    return seen


class Sandbox:
    """A `zenodo-export sandbox` subprocess with a generous rate limit."""

    def __init__(self, data_dir: Path) -> None:
        self.port = free_port()
        self.api_url = f"http://127.0.0.1:{self.port}/api/"
        self.process = subprocess.Popen(
            [
                *CLI,
                "sandbox",
                "--port",
                str(self.port),
                "--data-dir",
                str(data_dir),
                "--token",
                TOKEN,
                "--rate-limit",
                "1000000/minute",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(self.api_url + "deposit/depositions", headers=self.headers)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("the sandbox did not start")

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {TOKEN}"}

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def curl_upload(sandbox: Sandbox, path: Path) -> tuple[float, str]:
    """Upload with ``curl -T`` into a fresh draft's bucket; return seconds and Zenodo's md5."""
    draft = httpx.post(
        sandbox.api_url + "deposit/depositions", json={}, headers=sandbox.headers
    ).json()
    started = time.perf_counter()
    result = subprocess.run(
        [
            "curl",
            "-sS",
            "-T",
            str(path),
            "-H",
            f"Authorization: Bearer {TOKEN}",
            f"{draft['links']['bucket']}/{path.name}",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    seconds = time.perf_counter() - started
    return seconds, json.loads(result.stdout)["checksum"].removeprefix("md5:")


def environment(sandbox: Sandbox, work: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZENODO_", "DATABASE_URL"))}
    env.update(
        DATABASE_URL=f"sqlite:///{work / 'bench.db'}",
        ZENODO_URL=sandbox.api_url,
        ZENODO_TOKEN=TOKEN,
        ZENODO_EXPORT_DATA_DIR=str(work / "data"),
        ZENODO_EXPORT_POLL_INTERVAL="0.02",
        # Pacing stays on (its cost per request is measured) but never throttles here.
        ZENODO_EXPORT_RATE_LIMITS="1000000/minute",
    )
    return env


def queue_export(env: dict[str, str], path: Path, name: str) -> int:
    result = subprocess.run(
        [
            *CLI,
            "export",
            str(path),
            "--name",
            name,
            "--title",
            f"Benchmark {name}",
            "--description",
            "benchmark",
            "--creator",
            "Bench, Mark",
            "--keyword",
            "bench",
            "--code-repository-url",
            "https://example.org/bench",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return int(result.stdout.strip())


def show(env: dict[str, str], export_id: int) -> dict[str, Any]:
    result = subprocess.run(
        [*CLI, "show", str(export_id), "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(result.stdout))


def export_with_worker(env: dict[str, str], path: Path) -> tuple[float, float, str]:
    """Export one file with a `worker --burst`; return export seconds, peak RSS MB, md5."""
    # A fresh name per run: the same name would make a new version whose file is skipped by md5.
    export_id = queue_export(env, path, f"{path.stem}-{time.monotonic_ns()}")
    worker = subprocess.Popen(
        [*CLI, "worker", "--burst"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    peak = watch_peak(worker)
    _, errors = worker.communicate()
    if worker.returncode != 0:
        raise RuntimeError(errors)
    view = show(env, export_id)
    if view["state"] != "done":
        raise RuntimeError(f"export {export_id} ended {view['state']}: {view['last_error']}")
    started = _when(view["started_exporting_at"])
    finished = _when(view["finished_exporting_at"])
    return finished - started, peak[0], view["files"][path.name]["md5"]


def _when(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso).timestamp()


def bare_http_export(http: httpx.Client, path: Path) -> None:
    """The irreducible HTTP calls of one export (create, upload, publish), straight with httpx."""
    draft = http.post(
        "deposit/depositions",
        json={
            "metadata": {
                "upload_type": "dataset",
                "title": "t",
                "description": "d",
                "creators": [{"name": "B, M"}],
                "publication_date": "2026-01-01",
                "access_right": "open",
                "license": "cc-zero",
            }
        },
    ).json()
    http.put(f"{draft['links']['bucket']}/{path.name}", content=path.read_bytes())
    http.post(f"deposit/depositions/{draft['id']}/actions/publish").raise_for_status()


def overhead(sandbox: Sandbox, env: dict[str, str], work: Path, count: int) -> tuple[float, float]:
    """Seconds per 1 KiB export in a running worker, and per bare-HTTP export."""
    small = work / "one_kib.csv"
    small.write_bytes(os.urandom(1024))
    with httpx.Client(base_url=sandbox.api_url, headers=sandbox.headers) as http:
        started = time.perf_counter()
        for _ in range(count):
            bare_http_export(http, small)
        bare = (time.perf_counter() - started) / count

    from zenodo_export.exports.service import create_and_queue
    from zenodo_export.store import Store, count_exports

    store = Store.open(env["DATABASE_URL"])
    worker = subprocess.Popen(
        [*CLI, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    time.sleep(2.0)  # let the worker start and go idle
    with store.transaction() as session:
        before = count_exports(session, "done")
    started = time.perf_counter()
    for n in range(count):
        create_and_queue(
            store,
            name=f"small-{n}",
            files=[str(small)],
            title="t",
            description="d",
            creators=["B, M"],
            keywords=["k"],
            publication_date="2026-01-01",
            code_repository_url="https://example.org/bench",
        )
    while True:
        with store.transaction() as session:
            if count_exports(session, "done") - before >= count:
                break
        time.sleep(0.01)
    ours = (time.perf_counter() - started) / count
    worker.terminate()
    worker.wait(timeout=30)
    store.dispose()
    return ours, bare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", type=parse_size, default=parse_size("2GiB"))
    parser.add_argument("--small", type=parse_size, default=parse_size("256MiB"))
    parser.add_argument("--exports", type=int, default=50, help="1 KiB exports for overhead")
    parser.add_argument("--repeat", type=int, default=3, help="alternating big-file runs")
    parser.add_argument("--dir", type=Path, default=None, help="work dir (default: a temp dir)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        work = Path(tmp)
        sandbox = Sandbox(work / "sandbox")
        try:
            run(sandbox, work, args)
        finally:
            sandbox.stop()


def median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def run(sandbox: Sandbox, work: Path, args: argparse.Namespace) -> None:
    env = environment(sandbox, work)
    big, small = work / "big.bin", work / "small.bin"
    big_md5, small_md5 = write_file(big, args.big), write_file(small, args.small)
    curl_runs, ours_runs, peaks, md5s = [], [], [], set()
    for _ in range(args.repeat):  # alternate, so that both see the same disk and cache states
        seconds, curl_md5 = curl_upload(sandbox, big)
        curl_runs.append(seconds)
        md5s.add(curl_md5)
        seconds, peak, ours_md5 = export_with_worker(env, big)
        ours_runs.append(seconds)
        peaks.append(peak)
        md5s.add(ours_md5)
    _, small_peak, small_ours_md5 = export_with_worker(env, small)
    curl_s, ours_s, big_peak = median(curl_runs), median(ours_runs), max(peaks)
    mb = args.big / 1e6
    print(f"throughput, {args.big} bytes, median of {args.repeat} alternating runs:")
    print(
        f"  curl -T (reference)   {curl_s:7.2f} s  {mb / curl_s:7.1f} MB/s  "
        f"runs {', '.join(f'{v:.2f}' for v in curl_runs)}"
    )
    print(
        f"  zenodo-export export  {ours_s:7.2f} s  {mb / ours_s:7.1f} MB/s  "
        f"runs {', '.join(f'{v:.2f}' for v in ours_runs)}"
    )
    print(f"  ratio export/curl     {ours_s / curl_s:7.3f}   (goal <= 1.05)")
    print(f"  md5 of every upload   {'ok' if md5s == {big_md5} else 'WRONG'}")
    print("worker peak RSS:")
    print(
        f"  {args.small:>11} bytes  {small_peak:6.1f} MB  md5 "
        f"{'ok' if small_ours_md5 == small_md5 else 'WRONG'}"
    )
    print(f"  {args.big:>11} bytes  {big_peak:6.1f} MB   (goal <= 80 MB)")
    print(f"  ratio big/small       {big_peak / small_peak:7.3f}   (goal: flat, <= 1.10)")
    ours, bare = overhead(sandbox, env, work, args.exports)
    print(f"per-export time, 1 KiB file, {args.exports} exports in a running worker:")
    print(f"  bare create+upload+publish (reference) {bare:.4f} s")
    print(f"  zenodo-export                          {ours:.4f} s   (goal <= 0.05 s)")
    print(f"  overhead beyond the bare calls         {ours - bare:.4f} s  ratio {ours / bare:.2f}")
    if md5s != {big_md5} or small_md5 != small_ours_md5:
        sys.exit(1)


if __name__ == "__main__":
    main()
