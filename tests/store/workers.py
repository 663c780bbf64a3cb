"""Entry points the store tests run in separate OS processes: ``python -m tests.store.workers``.

``claim URL WORKER DIR``: say ready, wait for the go, claim jobs until none is left, print ids.
``migrate URL WORKER DIR``: say ready, wait for the go, then migrate.

Each process touches ``DIR/ready-WORKER`` once it has imported everything; the test touches
``DIR/go`` when all are ready, so that they really start at the same moment.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from zenodo_export.jobs import claim
from zenodo_export.store import Store

REPO_ROOT = Path(__file__).resolve().parents[2]


def _wait_for(*files: Path) -> None:
    deadline = time.monotonic() + 30
    while not all(file.exists() for file in files):
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited 30 s for {[str(file) for file in files]}")
        time.sleep(0.005)


def _start_together(worker_id: str, rendezvous: Path) -> None:
    (rendezvous / f"ready-{worker_id}").touch()
    _wait_for(rendezvous / "go")


def claim_all(url: str, worker_id: str, rendezvous: Path) -> list[int]:
    """Claim jobs until none is ready; return their ids."""
    store = Store.open(url, migrate=False)
    _start_together(worker_id, rendezvous)
    claimed: list[int] = []
    while (
        job := claim(store, worker_id=worker_id, lease_seconds=600, max_attempts=25)
    ) is not None:
        claimed.append(job.id)
    store.dispose()
    return claimed


def migrate(url: str, worker_id: str, rendezvous: Path) -> None:
    """Migrate the database together with the other processes."""
    store = Store.open(url, migrate=False)
    _start_together(worker_id, rendezvous)
    store.migrate()
    store.dispose()


def run_together(command: str, url: str, rendezvous: Path, *, processes: int) -> list[str]:
    """Run ``command`` in several processes started at the same moment; return their outputs."""
    rendezvous.mkdir(parents=True, exist_ok=True)
    workers = [f"worker-{number}" for number in range(processes)]
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.store.workers", command, url, worker, str(rendezvous)],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for worker in workers
    ]
    _wait_for(*(rendezvous / f"ready-{worker}" for worker in workers))
    (rendezvous / "go").touch()
    outputs = [child.communicate(timeout=120) for child in children]
    for child, (_, err) in zip(children, outputs, strict=True):
        assert child.returncode == 0, err
    return [out for out, _ in outputs]


def main(argv: Sequence[str]) -> None:
    """Dispatch a command line."""
    command, url, worker_id, rendezvous = argv
    if command == "claim":
        print(json.dumps(claim_all(url, worker_id, Path(rendezvous))))
    elif command == "migrate":
        migrate(url, worker_id, Path(rendezvous))
    else:
        raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
