"""Benchmark a crawling worker's memory against the size of a page; run by hand.

A ``zenodo-export worker --burst`` process crawls, one snapshot at a time, a single page of
1, 10 and 100 MiB of JSON (many small items), then a gzip bomb (a ~1 MB body that inflates
to 1 GiB, refused at the page cap, 128 MiB by default). Its peak RSS (VmHWM, from ``wait4``)
is compared with the 1 MiB page's, measured in the same run (goal: flat, within 10 MB). The
API is a plain HTTP server in its own process, so crawler and server never share memory.

    python benchmarks/crawl_memory.py
    python benchmarks/crawl_memory.py --sizes 1 10 --bomb-mib 256     # quicker
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "zenodo_export"]
MIB = 1024 * 1024


def item_block() -> bytes:
    """Return about 1 MiB of items, comma-separated (the unit every page is made of)."""
    items, size, number = [], 0, 0
    while size < MIB:
        number += 1
        item = json.dumps(
            {"id": f"work-{number:07d}", "title": f"Work n°{number} of the API", "views": number}
        ).encode()
        items.append(item)
        size += len(item) + 1
    return b",".join(items)


HEAD, TAIL = b'{"meta":{"total_pages":1},"data":[', b"]}"


def page_parts(mib: int) -> tuple[int, list[bytes]]:
    """Return a page of ``mib`` blocks: its length and the pieces to send (blocks repeat)."""
    block = item_block()
    parts = [HEAD] + [block if i == 0 else b"," + block for i in range(mib)] + [TAIL]
    return sum(len(part) for part in parts), parts


def bomb(mib: int) -> bytes:
    """Return a gzip body inflating to a JSON array of ``mib`` MiB of blanks."""
    stream = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunks = [stream.compress(b"[")]
    chunks += [stream.compress(b" " * MIB) for _ in range(mib)]
    return b"".join([*chunks, stream.compress(b"]"), stream.flush()])


def serve(bomb_mib: int) -> None:
    """Serve ``/page?mib=N`` and ``/bomb`` until killed; print the base URL first."""
    bomb_body = bomb(bomb_mib)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            if self.path.startswith("/bomb"):
                self.send_header("Content-Encoding", "gzip")
                self.send_header("Content-Length", str(len(bomb_body)))
                self.end_headers()
                self.wfile.write(bomb_body)
                return
            mib = int(self.path.partition("mib=")[2].partition("&")[0])
            length, parts = page_parts(mib)
            self.send_header("Content-Length", str(length))
            self.end_headers()
            for part in parts:
                self.wfile.write(part)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


def worker_peak(url: str, work: Path) -> tuple[float, float, str, str]:
    """Crawl ``url`` in a ``worker --burst`` process; return peak MB, seconds, state, error."""
    sys.path.insert(0, str(ROOT))
    from zenodo_export.settings import Settings
    from zenodo_export.snapshots import SnapshotRequest, create_snapshot
    from zenodo_export.store import Store, get_export

    database = f"sqlite:///{work / 'bench.db'}"
    settings = Settings(data_dir=work / "data")
    store = Store.open(database)
    try:
        snapshot_id = create_snapshot(store, settings, SnapshotRequest(url=url))
    finally:
        store.dispose()
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "ZENODO_EXPORT_DATA_DIR": str(work / "data"),
        "ZENODO_EXPORT_POLL_INTERVAL": "0.05",
        "ZENODO_EXPORT_MAX_ATTEMPTS": "1",
        "ZENODO_TOKEN": "unused-by-snapshots",
    }
    started = time.perf_counter()
    with (work / "worker.log").open("wb") as log:
        process = subprocess.Popen([*CLI, "worker", "--burst"], env=env, stderr=log)
        _, status, usage = os.wait4(process.pid, 0)  # ru_maxrss: the child's VmHWM, in KiB
    seconds = time.perf_counter() - started
    tail = (work / "worker.log").read_text()[-2000:]
    assert os.waitstatus_to_exitcode(status) == 0, f"the worker failed: {tail}"
    store = Store.open(database)
    try:
        with store.transaction() as session:
            snapshot = get_export(session, snapshot_id)
            state, error = snapshot.state, snapshot.last_error or ""
    finally:
        store.dispose()
    return usage.ru_maxrss / 1024, seconds, state, error


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 100], help="MiB")
    parser.add_argument("--bomb-mib", type=int, default=1024, help="the bomb inflated, MiB")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.bomb_mib)
        return

    command = [sys.executable, __file__, "--serve", "--bomb-mib", str(args.bomb_mib)]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    base = server.stdout.readline().strip()
    rows: list[tuple[str, float, float, str]] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for mib in args.sizes:
                url = f"{base}/page?mib={mib}"
                peak, seconds, state, error = worker_peak(url, Path(tmp) / f"p{mib}")
                assert state == "done", error
                rows.append((f"page of {mib} MiB", peak, seconds, state))
            peak, seconds, state, error = worker_peak(f"{base}/bomb", Path(tmp) / "bomb")
            assert state == "failed" and "larger than" in error, error
            size = len(bomb(args.bomb_mib)) / 1000
            name = f"gzip bomb ({size:.0f} kB -> {args.bomb_mib} MiB)"
            rows.append((name, peak, seconds, "failed at the cap"))
    finally:
        server.terminate()
        server.wait(timeout=10)

    reference = rows[0][1]
    print("worker peak RSS (VmHWM), one snapshot of one page, `worker --burst`:")
    for name, peak, seconds, state in rows:
        ratio, delta = peak / reference, peak - reference
        print(
            f"  {name:<34} {peak:7.1f} MB  {ratio:5.3f}x  {delta:+6.1f} MB  "
            f"{seconds:6.1f} s  ({state})"
        )
    peaks = [peak for _, peak, _, _ in rows]
    spread = max(peaks) - min(peaks)
    verdict = "flat" if spread <= 10 else "NOT flat"
    print(f"  spread {spread:.1f} MB (goal: within 10 MB): {verdict}")
    print(f"  bomb refused with: {error}")


if __name__ == "__main__":
    main()
