"""The pipeline's pure decisions: which files to send, skip or delete; when to retry."""

from __future__ import annotations

import random

from zenodo_export.errors import (
    AuthRejected,
    ChecksumMismatch,
    InvalidExport,
    RateLimited,
    Transient,
    ZenodoNotFound,
)
from zenodo_export.exports.plan import LocalFile, needs_hash, plan_files
from zenodo_export.jobs.retry import decide, sidekiq_delay
from zenodo_export.zenodo.models import RemoteFile

A = LocalFile("a.csv", "/x/a.csv", 10, 111)
B = LocalFile("b.csv", "/x/b.csv", 20, 222)


def remote(name: str, size: int, md5: str) -> RemoteFile:
    return RemoteFile(id=f"id-{name}", name=name, size=size, md5=md5)


def test_fresh_draft_uploads_everything() -> None:
    """An empty draft gets every local file."""
    plan = plan_files([A, B], [], {}, {})
    assert plan.upload == (A, B) and not plan.skip and not plan.delete


def test_recorded_upload_with_same_md5_is_skipped() -> None:
    """A file recorded as uploaded, unchanged on disk and present remotely is not sent again."""
    recorded = {"a.csv": {"size": 10, "md5": "m-a", "mtime_ns": 111}}
    plan = plan_files([A, B], [remote("a.csv", 10, "m-a")], recorded, {})
    assert plan.skip == (A,) and plan.upload == (B,)


def test_file_changed_on_disk_since_upload_is_sent_again() -> None:
    """A recorded upload whose file changed on disk (mtime) is not trusted."""
    recorded = {"a.csv": {"size": 10, "md5": "m-a", "mtime_ns": 999}}
    assert needs_hash([A], [remote("a.csv", 10, "m-a")], recorded) == [A]
    plan = plan_files([A], [remote("a.csv", 10, "m-a")], recorded, {"a.csv": "other"})
    assert plan.upload == (A,)


def test_carried_over_files_are_deleted_overwritten_or_kept_by_md5() -> None:
    """A new-version draft's old files: extra ones deleted, changed ones sent, same ones kept."""
    carried = [remote("a.csv", 10, "same"), remote("b.csv", 20, "old"), remote("c.csv", 5, "x")]
    assert needs_hash([A, B], carried, {}) == [A, B]
    plan = plan_files([A, B], carried, {}, {"a.csv": "same", "b.csv": "new"})
    assert plan.skip == (A,) and plan.upload == (B,)
    assert [item.name for item in plan.delete] == ["c.csv"]


def test_sidekiq_delay_grows() -> None:
    """Delays grow with the attempt number, as Sidekiq's do."""
    rng = random.Random(1)
    delays = [sidekiq_delay(n, base=15, rng=rng) for n in range(1, 6)]
    assert delays == sorted(delays) and delays[0] >= 16


def test_transient_is_retried_until_the_last_attempt() -> None:
    """Transient errors retry with a delay; the last attempt fails for good."""
    exc = Transient("504")
    assert decide(exc, attempt=1, max_attempts=3, base=0).action == "retry"
    assert decide(exc, attempt=3, max_attempts=3, base=0).action == "fail"


def test_retry_after_is_honoured_when_longer() -> None:
    """A Retry-After longer than the back-off wins."""
    decision = decide(Transient("503", retry_after=500), attempt=1, max_attempts=5, base=0)
    assert decision.delay >= 500


def test_rate_limit_postpones_even_after_the_last_attempt() -> None:
    """A rate limit postpones by its Retry-After and uses no attempt."""
    decision = decide(RateLimited("429", retry_after=39), attempt=5, max_attempts=5, base=0)
    assert (decision.action, decision.delay) == ("postpone", 39)


def test_permanent_errors_fail_at_once() -> None:
    """Bad input, a refused token or a deleted deposition are not retried."""
    for exc in (
        InvalidExport("files", "missing"),
        AuthRejected("no", status=403),
        ZenodoNotFound("gone"),
    ):
        assert decide(exc, attempt=1, max_attempts=25, base=0).action == "fail"


def test_checksum_mismatch_and_unknown_errors_are_retried() -> None:
    """A damaged upload and an unexpected error are retried."""
    for exc in (ChecksumMismatch("damaged"), OSError("disk hiccup")):
        assert decide(exc, attempt=1, max_attempts=25, base=0).action == "retry"
