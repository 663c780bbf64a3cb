"""Benchmark the files store, local and S3 (moto standing in), against cp and plain uploads.

Measures, in one run, each against a reference measured in the same run:

1. staging: a 1 GiB file staged into the local store and into an S3-compatible endpoint
   (``stage_files``, what ``zenodo-export export`` does before queuing) vs ``cp`` of the same
   file on the same disk; the S3 store is also compared with boto3's ``upload_file`` of the
   same file to the same endpoint (what the endpoint itself allows);
2. upload: a 1 GiB export read from each store and uploaded by a real ``worker --burst`` to
   the local sandbox vs the same file exported ``--in-place`` (read from the local disk);
3. memory: the worker's peak RSS (VmHWM) exporting 256 MiB, 1 GiB and 2 GiB read from each
   store (goal: flat, within 10 MB).

The S3 endpoint is moto's server (``python -m moto.server``) on 127.0.0.1 in its own process:
it stands in for S3, and is far slower than a real S3 or MinIO would be, so the S3 figures
say what the store costs over the same endpoint more than what S3 would give.

    python benchmarks/storage.py             # 1 GiB, 256 MiB / 1 GiB / 2 GiB, 3 runs each
    python benchmarks/storage.py --quick     # every size divided by 16
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from upload import Sandbox  # the same sandbox subprocess as the upload benchmark

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "zenodo_export"]
TOKEN = "bench-token"
MIB, GIB = 2**20, 2**30
BUCKET = "bench"
S3_STORE = f"s3://{BUCKET}/store"
ATTRIBUTES: dict[str, Any] = {
    "title": "Benchmark of the files store",
    "description": "benchmark",
    "creators": ["Bench, Mark"],
    "keywords": ["bench"],
    "publication_date": "2026-01-01",
    "code_repository_url": "https://example.org/bench",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_file(path: Path, size: int) -> str:
    """Write ``size`` pseudo-random bytes (1 MiB of urandom, each MiB numbered); return md5."""
    digest = hashlib.md5(usedforsecurity=False)
    block = bytearray(os.urandom(MIB))
    with path.open("wb") as stream:
        for number in range((size + MIB - 1) // MIB):
            block[:8] = number.to_bytes(8, "big")
            chunk = bytes(block[: min(MIB, size - number * MIB)])
            stream.write(chunk)
            digest.update(chunk)
    return digest.hexdigest()


def size_text(size: int) -> str:
    return f"{size // GIB} GiB" if size % GIB == 0 else f"{size // MIB} MiB"


def median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def wait_until(check: Any, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            check()
            return
        except (httpx.TransportError, OSError):
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not start")


# -- the servers: moto for S3, the sandbox for Zenodo -----------------------------------------


class Moto:
    """moto's S3 server in its own process, with the bench bucket; it spills to ``work``."""

    def __init__(self, work: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        spill = work / "moto-tmp"
        spill.mkdir()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            env={**os.environ, "TMPDIR": str(spill)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(lambda: httpx.get(self.url), "moto's server")

    @property
    def env(self) -> dict[str, str]:
        return {
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_ENDPOINT_URL": self.url,
            "AWS_DEFAULT_REGION": "us-east-1",
        }

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


# -- the bench --------------------------------------------------------------------------------


@dataclass
class Bench:
    work: Path
    moto: Moto
    sandbox: Sandbox
    stores: dict[str, str] = field(default_factory=dict)  # shown name -> ZENODO_EXPORT_STORAGE

    def __post_init__(self) -> None:
        self.stores = {"local store": str(self.work / "store"), "S3 store (moto)": S3_STORE}
        self.database = f"sqlite:///{self.work / 'bench.db'}"
        from zenodo_export.store import Store

        self.store = Store.open(self.database)
        self.names = 0

    def files(self, storage: str) -> Any:
        from zenodo_export.filestore import files_store
        from zenodo_export.settings import Settings

        return files_store(Settings(data_dir=self.work / "data", storage=storage))

    def env(self, storage: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ZENODO_", "DATABASE_"))}
        env.update(
            self.moto.env,
            DATABASE_URL=self.database,
            ZENODO_URL=self.sandbox.api_url,
            ZENODO_TOKEN=TOKEN,
            ZENODO_EXPORT_DATA_DIR=str(self.work / "data"),
            ZENODO_EXPORT_STORAGE=storage,
            ZENODO_EXPORT_POLL_INTERVAL="0.02",
            ZENODO_EXPORT_MAX_ATTEMPTS="1",
            ZENODO_EXPORT_RATE_LIMITS="1000000/minute",
        )
        return env

    def queue(self, files: list[Any]) -> int:
        """Queue an export of ``files`` (paths: read in place; staged entries: from the store)."""
        from zenodo_export.exports.service import create_and_queue

        self.names += 1  # a fresh name each time: a new version would skip the file by md5
        return create_and_queue(
            self.store, name=f"bench-{self.names}-{time.monotonic_ns()}", files=files, **ATTRIBUTES
        )

    def run_worker(self, export_id: int, storage: str) -> tuple[float, float, str]:
        """Run a ``worker --burst``; return the export's seconds, the worker's peak MB, md5."""
        from zenodo_export.exports.views import export_view
        from zenodo_export.store import get_export

        log = self.work / "worker.log"
        with log.open("wb") as stream:
            process = subprocess.Popen(
                [*CLI, "worker", "--burst"],
                env=self.env(storage),
                stdout=subprocess.DEVNULL,
                stderr=stream,
            )
            # Not wait4's ru_maxrss: Linux counts in it the peak of the mm the child had before
            # exec, i.e. this (much bigger) process's at the fork.
            polled = poll_vmhwm(process.pid)
            process.wait()
        if process.returncode != 0:
            raise RuntimeError(f"the worker failed: {log.read_text()[-2000:]}")
        with self.store.transaction() as session:
            view = export_view(get_export(session, export_id))
        if view["state"] != "done":
            raise RuntimeError(f"export {export_id} ended {view['state']}: {view['last_error']}")
        seconds = _when(view["finished_exporting_at"]) - _when(view["started_exporting_at"])
        (md5,) = [entry["md5"] for entry in view["files"].values()]
        return seconds, polled[0], md5


def poll_vmhwm(pid: int) -> list[float]:
    """Follow /proc/PID/status VmHWM (MB) in a thread; the list holds the latest reading."""
    seen = [0.0]

    def poll() -> None:
        while True:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                return
            match = re.search(r"VmHWM:\s+(\d+) kB", status)
            if not match or "Z (zombie)" in status:
                return
            seen[0] = max(seen[0], int(match.group(1)) / 1024)
            time.sleep(0.02)

    threading.Thread(target=poll, daemon=True).start()
    return seen


def _when(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso).timestamp()


# -- the three measurements -------------------------------------------------------------------

Row = tuple[str, list[float]]


def staging(bench: Bench, source: Path, md5: str, repeat: int) -> list[Row]:
    """Time cp, staging into each store, and boto3's upload_file, alternating runs."""
    import boto3

    from zenodo_export.exports.staging import stage_files

    target = bench.work / "cp-copy.bin"
    client = boto3.client("s3")
    names = ["cp (reference)", *(f"staging into the {name}" for name in bench.stores)]
    names.append("boto3 upload_file to moto (S3 reference)")
    names.append("boto3 copy_object inside moto (a key's move)")
    runs: dict[str, list[float]] = {name: [] for name in names}
    source_key, moved = f"{BUCKET}/reference.bin", {"Bucket": BUCKET, "Key": "moved.bin"}

    def timed(name: str, action: Any) -> Any:
        os.sync()  # no run pays for the previous one's writeback
        started = time.perf_counter()
        result = action()
        runs[name].append(time.perf_counter() - started)
        return result

    for _ in range(repeat):
        timed(names[0], lambda: subprocess.run(["cp", str(source), str(target)], check=True))
        target.unlink()
        for (shown, storage), name in zip(bench.stores.items(), names[1:], strict=False):
            files = bench.files(storage)
            (staged,) = timed(name, lambda files=files: stage_files(files, [source]))
            assert staged.md5 == md5, f"{shown}: staged md5 {staged.md5}, expected {md5}"
            files.delete(staged.key)  # the next run stores it again (staging deduplicates)
        timed(names[-2], lambda: client.upload_file(str(source), BUCKET, "reference.bin"))
        timed(names[-1], lambda: client.copy_object(CopySource=source_key, **moved))
        client.delete_object(Bucket=BUCKET, Key="reference.bin")
        client.delete_object(Bucket=BUCKET, Key="moved.bin")
    return [(name, runs[name]) for name in names]


def uploads(bench: Bench, source: Path, md5: str, repeat: int) -> tuple[list[Row], list[str]]:
    """Time a worker's export read in place, from the local store and from S3, alternating."""
    from zenodo_export.exports.staging import stage_files

    staged = {
        storage: stage_files(bench.files(storage), [source]) for storage in bench.stores.values()
    }
    local = str(bench.work / "store")
    kinds = [("--in-place, read from the local disk (reference)", local, [str(source)])]
    kinds += [
        (f"from the {shown}", storage, list(staged[storage]))
        for shown, storage in bench.stores.items()
    ]
    runs: dict[str, list[float]] = {name: [] for name, _, _ in kinds}
    wrong: list[str] = []
    get = "one streamed GET from moto, by boto3 (read only)"
    runs[get] = []
    s3_key = next(iter(staged[S3_STORE])).key
    for _ in range(repeat):
        for name, storage, files in kinds:
            os.sync()
            seconds, _, uploaded = bench.run_worker(bench.queue(files), storage)
            runs[name].append(seconds)
            if uploaded != md5:
                wrong.append(f"{name}: md5 {uploaded}, expected {md5}")
        runs[get].append(streamed_get(f"{S3_STORE.removeprefix(f's3://{BUCKET}/')}/{s3_key}"))
    return [(name, runs[name]) for name in runs], wrong


def streamed_get(key: str) -> float:
    """Read an object of moto in one GET, 1 MiB at a time; return the seconds."""
    import boto3

    started = time.perf_counter()
    body = boto3.client("s3").get_object(Bucket=BUCKET, Key=key)["Body"]
    for _ in body.iter_chunks(MIB):
        pass
    return time.perf_counter() - started


def memory(
    bench: Bench, sources: dict[int, tuple[Path, str]]
) -> tuple[list[tuple[str, int, float, float]], list[str]]:
    """Export each size read from each store; return (store, size, peak MB, seconds) rows."""
    from zenodo_export.exports.staging import stage_files

    rows, wrong = [], []
    for shown, storage in bench.stores.items():
        for size, (path, md5) in sources.items():
            staged = stage_files(bench.files(storage), [path])
            seconds, peak, uploaded = bench.run_worker(bench.queue(list(staged)), storage)
            rows.append((shown, size, peak, seconds))
            if uploaded != md5:
                wrong.append(f"{shown}, {size_text(size)}: md5 {uploaded}, expected {md5}")
    return rows, wrong


# -- the report -------------------------------------------------------------------------------


def print_table(
    title: str, rows: list[Row], size: int, extra: dict[str, tuple[str, float]] | None = None
) -> None:
    print(title)
    reference = median(rows[0][1])
    for name, runs in rows:
        seconds = median(runs)
        line = (
            f"  {name:<50} {seconds:7.2f} s  {size / 1e6 / seconds:7.1f} MB/s  "
            f"{seconds / reference:6.2f}x"
        )
        if extra and name in extra:
            other, value = extra[name]
            line += f"  ({seconds / value:.2f}x {other})"
        print(f"{line}   runs {', '.join(f'{v:.2f}' for v in runs)}")


def needed_bytes(stage: int, upload: int, sizes: list[int], repeat: int) -> int:
    """Bytes of disk the run uses at most, roughly (sources, both stores, moto's spills, the
    sandbox's copies of every upload), with a margin."""
    distinct = sum(set([stage, upload, *sizes]))
    moto = distinct + 2 * max(distinct, stage)  # objects, plus a copy while a key is moved
    sandbox = 3 * repeat * upload + 2 * sum(sizes)
    return int(1.1 * (2 * distinct + stage + moto + sandbox))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="every size divided by 16")
    parser.add_argument("--repeat", type=int, default=3, help="alternating runs of 1. and 2.")
    parser.add_argument("--dir", type=Path, default=None, help="work dir (default: a temp dir)")
    args = parser.parse_args()
    divisor = 16 if args.quick else 1
    stage = upload = GIB // divisor
    sizes = [size // divisor for size in (256 * MIB, GIB, 2 * GIB)]

    need = needed_bytes(stage, upload, sizes, args.repeat)
    base = args.dir or Path(tempfile.gettempdir())
    free = shutil.disk_usage(base).free
    print(f"work dir under {base}: {free / GIB:.1f} GiB free, about {need / GIB:.1f} GiB needed")
    if free < need:
        sys.exit(f"not enough free disk space under {base}: use --dir or --quick")

    with tempfile.TemporaryDirectory(dir=args.dir, prefix="storage-bench-") as tmp:
        work = Path(tmp)
        moto = Moto(work)
        sandbox = None
        try:
            os.environ.update(moto.env)  # for staging and boto3 in this process
            import boto3

            boto3.client("s3").create_bucket(Bucket=BUCKET)
            sandbox = Sandbox(work / "sandbox")
            run(Bench(work, moto, sandbox), stage, upload, sizes, args.repeat)
        finally:
            if sandbox is not None:
                sandbox.stop()
            moto.stop()


def run(bench: Bench, stage: int, upload: int, sizes: list[int], repeat: int) -> None:
    sources: dict[int, tuple[Path, str]] = {}
    for size in sorted(set([stage, upload, *sizes])):
        path = bench.work / f"data-{size_text(size).replace(' ', '')}.bin"
        sources[size] = (path, write_file(path, size))
    print(f"S3 is moto's server ({bench.moto.url}, {S3_STORE}), standing in for S3")

    rows = staging(bench, *sources[stage], repeat)
    s3_reference = median(rows[-1][1])
    print_table(
        f"1. staging a {size_text(stage)} file ({stage} bytes), "
        f"median of {repeat} alternating runs:",
        rows,
        stage,
        {"staging into the S3 store (moto)": ("boto3 upload_file", s3_reference)},
    )

    rows, wrong = uploads(bench, *sources[upload], repeat)
    print_table(
        f"2. export of a {size_text(upload)} file by `worker --burst` to the local sandbox "
        f"(start to end of the export), median of {repeat} alternating runs:",
        rows,
        upload,
    )
    print(f"  md5 of every upload: {'ok' if not wrong else 'WRONG: ' + '; '.join(wrong)}")

    found, more = memory(bench, {size: sources[size] for size in sizes})
    wrong += more
    print("3. worker peak RSS (VmHWM), one export of one file, `worker --burst`:")
    smallest = found[0][2]
    for shown, size, peak, seconds in found:
        first = next(p for s, _, p, _ in found if s == shown)
        print(
            f"  {shown:<16} {size_text(size):>8}  {peak:7.1f} MB  {peak - first:+6.1f} MB  "
            f"{peak / smallest:5.3f}x  {seconds:6.1f} s"
        )
    for shown in bench.stores:
        peaks = [peak for s, _, peak, _ in found if s == shown]
        spread = max(peaks) - min(peaks)
        verdict = "flat" if spread <= 10 else "NOT flat"
        print(f"  spread, {shown:<16} {spread:6.1f} MB (goal: within 10 MB): {verdict}")
    peaks = [peak for _, _, peak, _ in found]
    spread = max(peaks) - min(peaks)
    verdict = "within" if spread <= 10 else "NOT within"
    print(f"  spread, both stores     {spread:6.1f} MB ({verdict} 10 MB)")
    print(f"  md5 of every upload: {'ok' if not wrong else 'WRONG: ' + '; '.join(wrong)}")
    if wrong:
        sys.exit(1)


if __name__ == "__main__":
    main()
