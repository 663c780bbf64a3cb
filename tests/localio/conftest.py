"""Fixtures for local I/O failures: a small tmpfs that fills up, and a writer that obeys
permission bits although the tests run as root.

The full disk is a real filesystem: a tmpfs of a few KiB mounted for one test (root, or
CAP_SYS_ADMIN, is needed; the tests skip with the reason otherwise) and unmounted afterwards,
even when the test fails.
"""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.snapshots.conftest import api, crawl_settings  # noqa: F401  (fixtures reused here)

PR_CAPBSET_DROP = 24
"""``prctl`` option that removes a capability from the bounding set (``linux/prctl.h``)."""

DAC_CAPABILITIES = (1, 2)
"""CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH: what lets root ignore permission bits."""


class SmallDisk:
    """A tmpfs of ``size`` (``64k``, ``1m``...) mounted at ``path`` for one test."""

    def __init__(self, path: Path, size: str) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self._mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path))

    def resize(self, size: str) -> None:
        """Grow (or shrink, down to what it holds) the disk in place."""
        self._mount("-o", f"remount,size={size}", str(self.path))

    def unmount(self) -> None:
        """Unmount the disk (lazily if a file on it is still open)."""
        if subprocess.run(["umount", str(self.path)], capture_output=True).returncode:
            subprocess.run(["umount", "-l", str(self.path)], capture_output=True)

    @staticmethod
    def _mount(*args: str) -> None:
        try:
            done = subprocess.run(["mount", *args], capture_output=True, text=True)
        except FileNotFoundError:
            pytest.skip("no mount command: a full disk needs a small tmpfs")
        if done.returncode != 0:
            pytest.skip(f"cannot mount a small tmpfs (needs root): {done.stderr.strip()}")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Callable[[str], SmallDisk]]:
    """Mount small tmpfs disks under the test's temp dir; unmount them all afterwards."""
    mounted: list[SmallDisk] = []

    def mount(size: str, name: str = "disk") -> SmallDisk:
        disk = SmallDisk(tmp_path / name, size)
        mounted.append(disk)
        return disk

    try:
        yield mount
    finally:
        for disk in reversed(mounted):
            disk.unmount()


def temporary_files(root: Path) -> list[Path]:
    """Return the temporary or partial files left anywhere under ``root``."""
    return sorted(
        path
        for path in root.rglob("*")
        if path.is_file() and (path.name.startswith(".") or path.suffix in (".tmp", ".part"))
    )


def drop_dac_capabilities() -> None:
    """Remove from this process the capabilities that let root ignore permission bits.

    Meant for ``preexec_fn``: the program the child then executes runs as root but is
    refused what permission bits refuse, as any other user would be.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in DAC_CAPABILITIES:
        if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) refused")


def unprivileged() -> Callable[[], None] | None:
    """Return the ``preexec_fn`` that makes a child obey permission bits (None if it does)."""
    return drop_dac_capabilities if os.geteuid() == 0 else None


@pytest.fixture
def obeys_permissions(tmp_path: Path) -> Callable[[], None] | None:
    """The ``preexec_fn`` for a child that obeys permission bits; skip if none can be made.

    Root ignores ``chmod 0500``. Running the child as ``nobody`` does not work here (the
    interpreter may live under a private home, e.g. pyenv's ``/root/.pyenv``), so the child
    stays root and loses CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH instead.
    """
    closed = tmp_path / "closed"
    closed.mkdir()
    closed.chmod(0o500)
    probe = f"open({str(closed / 'probe')!r}, 'w')"
    try:
        done = subprocess.run(
            [sys.executable, "-c", probe], preexec_fn=unprivileged(), capture_output=True
        )
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"cannot start a process that obeys permission bits: {exc}")
    finally:
        closed.chmod(0o700)
    if done.returncode == 0:
        pytest.skip("this process cannot start a child that obeys permission bits")
    return unprivileged()
