"""The ``snapshot`` job: crawl one chunk of pages per run, then assemble, zip and hand over.

Each run fetches at most ``pages_per_job`` pages (concurrently when page numbers are known),
writes them in page order to the chunk's part file (named from its first page, written
atomically, so a re-run overwrites it rather than adding one), and only then advances the
cursor in ``data``, in one transaction. A worker killed before that commit leaves the cursor
where it was: the chunk is crawled again into the same part. The last run concatenates the
parts into the dump, zips it with a README, stamps the snapshot finished and, with
``upload``, creates and queues the ZenodoDataExport of the zip in that same transaction.

Each part moves into the files store (``snapshots/<id>/part-...``) before the cursor says it
is done, so that any worker, on any machine, can crawl the next chunk or assemble the dump; the
zip of an upload is staged there too. A part re-crawled replaces its key: never a page twice.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import httpx
from sqlalchemy.orm import Session

from zenodo_export.errors import NotFound
from zenodo_export.exports.kinds import DataExportJob, export_failed, export_retried
from zenodo_export.exports.staging import stage_files
from zenodo_export.filestore import FilesStore, files_store
from zenodo_export.jobs.context import JobContext
from zenodo_export.jobs.registry import JobKind, Registry
from zenodo_export.localfiles import (
    atomic_writer,
    ensure_room,
    make_private_directory,
    removed_on_failure,
    translated,
    write_atomically,
    zip_files,
)
from zenodo_export.settings import Settings
from zenodo_export.snapshots import archive
from zenodo_export.snapshots.describe import readme_of, upload_attributes
from zenodo_export.snapshots.fetch import (
    CrawlBoundReached,
    FetchedPage,
    PageLimits,
    fetch_pages,
    open_client,
)
from zenodo_export.snapshots.options import SnapshotOptions
from zenodo_export.snapshots.pagination import (
    CrawlBounds,
    Cursor,
    advance,
    bound_reached,
    is_loop,
    part_name,
    planned_pages,
    request_url,
)
from zenodo_export.snapshots.policy import CrawlPolicy
from zenodo_export.store import ApiSnapshot, ExportState, ZenodoDataExport, transition

log = logging.getLogger(__name__)

KIND = "snapshot"
"""Job kind of an API snapshot; one job per snapshot, re-queued after each chunk."""


@dataclass(frozen=True)
class Crawl:
    """Where a crawl may go and how far: its policy, a page's limits, the snapshot's bounds."""

    policy: CrawlPolicy
    page: PageLimits
    bounds: CrawlBounds
    concurrency: int
    secrets: dict[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, options: SnapshotOptions, settings: Settings) -> Crawl:
        """Return the crawl a snapshot's options and the deployer's settings allow."""
        policy = CrawlPolicy.of(
            options.url, allow_hosts=options.allow_hosts, allow_private=options.allow_private
        )
        page = PageLimits(
            max_bytes=settings.crawl_max_page_bytes,
            seconds=settings.crawl_page_seconds,
            max_redirects=settings.crawl_max_redirects,
        )
        bounds = CrawlBounds(
            max_pages=settings.crawl_max_pages,
            max_bytes=settings.crawl_max_snapshot_bytes,
            seconds=settings.crawl_snapshot_seconds,
        )
        concurrency = min(options.concurrency, settings.crawl_max_concurrency)
        return cls(
            policy=policy,
            page=page,
            bounds=bounds,
            concurrency=concurrency,
            secrets=options.header_values(),  # read now, from the environment; never stored
        )


@dataclass(frozen=True)
class ChunkStart:
    """A snapshot as one run sees it when it starts."""

    id: int
    options: SnapshotOptions
    cursor: Cursor
    state: ExportState


def _locked(session: Session, snapshot_id: int) -> ApiSnapshot:
    export = session.get(ApiSnapshot, snapshot_id, with_for_update=True)
    if export is None:
        raise NotFound(f"API snapshot {snapshot_id} does not exist")
    return export


def load(context: JobContext, snapshot_id: int) -> ChunkStart:
    """Read the snapshot's options and cursor; stamp it started on its first run."""
    with context.transaction() as session:
        export = _locked(session, snapshot_id)
        if export.state == "pending":
            transition(export, "start")
        return ChunkStart(
            id=export.id,
            options=SnapshotOptions.from_data(export.data),
            cursor=Cursor.from_data(export.data["cursor"]),
            state=export.state,
        )


def run_snapshot_job(context: JobContext) -> bool:
    """Crawl the next chunk of the job's snapshot; return True while more remains to do."""
    job, settings = context.job, context.settings
    if job.export_id is None:
        raise NotFound(f"snapshot job {job.id} names no snapshot")
    snapshot = load(context, job.export_id)
    if snapshot.state in ("done", "failed"):
        remove_parts(files_of(context), snapshot.options, snapshot.id)
        return False
    cursor = snapshot.cursor
    if not cursor.crawled:
        crawl = Crawl.of(snapshot.options, settings)
        with open_client(
            timeout=settings.http_timeout, concurrency=crawl.concurrency, policy=crawl.policy
        ) as client:
            pages, crawled = fetch_chunk(client, snapshot.options, cursor, crawl)
        cursor = save_chunk(context, snapshot, pages, crawled)
        if not cursor.crawled:
            return True
    finish(context, snapshot.id, snapshot.options, cursor)
    return False


def _check_bounds(cursor: Cursor, crawl: Crawl, wanted: Sequence[tuple[int, str]]) -> None:
    url = wanted[0][1]
    reason = bound_reached(cursor, crawl.bounds, now=time.time())
    if reason is None and cursor.pages_done + len(wanted) > crawl.bounds.max_pages:
        reason = f"the snapshot reached its limit of {crawl.bounds.max_pages} page(s)"
    if reason is not None:
        raise CrawlBoundReached(url, reason)
    if is_loop(cursor, url):
        raise CrawlBoundReached(url, "a next link leads back to a page already fetched (a loop)")


def fetch_chunk(
    client: httpx.Client, options: SnapshotOptions, cursor: Cursor, crawl: Crawl
) -> tuple[list[FetchedPage], Cursor]:
    """Fetch the next ``pages_per_job`` pages in page order; return them and the new cursor.

    Each page is checked first against the snapshot's bounds and, in a next-link style,
    against the pages fetched before (a loop); each streams to a file under the parts dir.
    """
    pages: list[FetchedPage] = []
    first = cursor.next_page  # the chunk's part is named after it
    with translated(options.parts_dir / part_name(first)):
        make_private_directory(options.parts_dir / PAGES_DIR)  # the part's folder, named if refused
    if cursor.started_at is None:
        cursor = replace(cursor, started_at=time.time())
    try:
        while len(pages) < options.pages_per_job and not cursor.crawled:
            limit = options.pages_per_job - len(pages)
            numbers = planned_pages(cursor, limit=limit, stop_page=options.stop_page)
            wanted = [(number, request_url(options.url, cursor, number)) for number in numbers]
            _check_bounds(cursor, crawl, wanted)
            with translated(options.parts_dir / part_name(first)):
                fetched = fetch_pages(
                    client,
                    wanted,
                    concurrency=crawl.concurrency,
                    into=options.parts_dir / PAGES_DIR,
                    policy=crawl.policy,
                    limits=crawl.page,
                    secrets=crawl.secrets,
                )
            for page in fetched:
                pages.append(page)
                cursor = advance(
                    cursor, page.paging, stop_page=options.stop_page, url=page.url, size=page.size
                )
                if cursor.crawled:  # the API may have shrunk while we crawled
                    break
    except BaseException:
        shutil.rmtree(options.parts_dir / PAGES_DIR, ignore_errors=True)  # no stray pages
        raise
    return pages, cursor


def timing_name(part: str) -> str:
    """Return the side file of a part that holds its pages' timings (``--benchmark``)."""
    return str(Path(part).with_suffix(".timing"))


def _timing_lines(pages: Sequence[FetchedPage]) -> list[bytes]:
    return [f"{page.url} took {page.seconds:.3f} seconds\n".encode() for page in pages]


PAGES_DIR = "pages"
"""Folder of the parts dir where a chunk's pages stream before they are gathered."""


def gather(part: Path, pages: Sequence[Path]) -> None:
    """Move the pages' files into ``part``, atomically, each removed once copied.

    The disk holds at most one page twice (the pages are already on it: no room check).
    """
    with atomic_writer(part) as out:
        for page in pages:
            with page.open("rb") as stream:
                shutil.copyfileobj(stream, out, 1024 * 1024)
            page.unlink()
    shutil.rmtree(part.parent / PAGES_DIR, ignore_errors=True)  # and pages past a shrunk end


def save_chunk(
    context: JobContext, snapshot: ChunkStart, pages: Sequence[FetchedPage], crawled: Cursor
) -> Cursor:
    """Write the chunk's part file, THEN advance the cursor; return the cursor now stored.

    If the stored cursor moved meanwhile (this worker lost its lease and another one did the
    chunk), nothing is changed: the other worker's part has the same name and pages.
    """
    options, before = snapshot.options, snapshot.cursor
    name = part_name(before.next_page)
    context.check()
    gather(options.parts_dir / name, [page.path for page in pages])
    files = files_of(context)
    files.put_file(options.parts_dir / name, part_key(snapshot.id, name))
    if options.benchmark:
        write_atomically(options.parts_dir / timing_name(name), _timing_lines(pages))
        timing = timing_name(name)
        files.put_file(options.parts_dir / timing, part_key(snapshot.id, timing))
    parts = before.parts if name in before.parts else (*before.parts, name)
    after = Cursor(**{**crawled.to_data(), "parts": parts})
    with context.transaction() as session:
        export = _locked(session, snapshot.id)
        stored = Cursor.from_data(export.data["cursor"])
        if stored != before:
            log.warning("snapshot %s: another worker crawled this chunk", snapshot.id)
            return stored
        export.data = {**export.data, "cursor": after.to_data()}
    log.info("snapshot %s: %d page(s) done, part %s", snapshot.id, after.pages_done, name)
    return after


def part_key(snapshot_id: int, name: str) -> str:
    """Return the files-store key of one part (or timing) file of a snapshot."""
    return f"snapshots/{snapshot_id}/{name}"


def files_of(context: JobContext) -> FilesStore:
    """Return this worker thread's files store."""
    return context.resources.get("files", lambda: files_store(context.settings))


def gather_from_store(path: Path, files: FilesStore, keys: Sequence[str]) -> None:
    """Write the stored files ``keys`` one after the other into ``path``, atomically, streaming."""
    make_private_directory(path.parent)
    ensure_room(path.parent, sum(files.size(key) for key in keys), name=path.name)
    with atomic_writer(path) as out:
        for key in keys:
            for chunk in files.chunks(key):
                out.write(chunk)


def assemble(
    options: SnapshotOptions, cursor: Cursor, files: FilesStore, snapshot_id: int
) -> dict[str, str]:
    """Concatenate the parts (from the files store) into the dump and zip it with its README.

    Any worker may assemble: the parts are read from the files store. Each file is written
    only if its directory has room for it (``LocalIOError`` if not). If any fails, the files
    of this assembly are removed (they would only take the room the next attempt needs); the
    parts stay until the snapshot is finished, so a retry assembles them again.
    """
    dump = options.dump_path
    written = {"dump": dump, "zip": dump.with_suffix(".zip")}
    if options.benchmark:
        written["benchmark"] = dump.with_suffix(".benchmark")
    with removed_on_failure(written.values()):
        gather_from_store(dump, files, [part_key(snapshot_id, name) for name in cursor.parts])
        if options.benchmark:
            timings = [part_key(snapshot_id, timing_name(name)) for name in cursor.parts]
            gather_from_store(written["benchmark"], files, timings)
        readme = readme_of(options, cursor.pages_done)
        zip_files(written["zip"], [dump], texts={"README.md": readme})
    return {kind: str(path) for kind, path in written.items()}


def finish(context: JobContext, snapshot_id: int, options: SnapshotOptions, cursor: Cursor) -> None:
    """Assemble the files, stamp the snapshot finished and queue its upload, in one transaction."""
    context.check()
    store = files_of(context)
    files = assemble(options, cursor, store, snapshot_id)
    staged = stage_files(store, [files["zip"]]) if options.upload else ()
    with context.transaction() as session:
        export = _locked(session, snapshot_id)
        if export.state in ("done", "failed"):
            return
        data = {**export.data, "files": files}
        if options.upload:
            attributes = upload_attributes(options, Path(files["zip"]), cursor.pages_done)
            upload = ZenodoDataExport.create(session, **{**attributes, "files": staged})
            DataExportJob.perform_later(session, id=upload.id)
            data["upload_export_id"] = upload.id
        export.data = data
        transition(export, "finish")
    remove_parts(store, options, snapshot_id)
    log.info("snapshot %s finished: %d page(s) in %s", snapshot_id, cursor.pages_done, files)


def remove_parts(files: FilesStore, options: SnapshotOptions, snapshot_id: int) -> None:
    """Delete the part files, here and in the files store, once the dump that holds them is safe."""
    archive.remove_parts(options.parts_dir)
    files.delete_folder(f"snapshots/{snapshot_id}")


def register(registry: Registry) -> None:
    """Add the ``snapshot`` job kind to ``registry``."""
    registry.add(
        JobKind(
            KIND,
            run_snapshot_job,
            on_failed=export_failed,
            on_retry=export_retried,
            needs_export=True,
        )
    )
