"""Exports: creation and validation, state, listing, previous version, timestamps."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.fixtures.exports import Attributes
from zenodo_export.errors import InvalidExport, NotFound
from zenodo_export.store import (
    ApiSnapshot,
    DataExport,
    ExportState,
    Store,
    ZenodoDataExport,
    count_exports,
    get_export,
    list_exports,
    previous_version,
)
from zenodo_export.store.models import EXPORT_STATES, derive_state

T0 = dt.datetime(2015, 5, 10, 2, 50, tzinfo=dt.UTC)


def _create(store: Store, attributes: Attributes, **overrides: object) -> int:
    with store.transaction() as session:
        return ZenodoDataExport.create(session, **attributes(**overrides)).id


def _stamp(store: Store, export_id: int, **timestamps: dt.datetime) -> None:
    with store.transaction() as session:
        export = get_export(session, export_id)
        for column, value in timestamps.items():
            setattr(export, column, value)


def test_create_stores_the_seed_attributes(store: Store, attributes: Attributes) -> None:
    """ZenodoDataExport.create stores a pending export whose spec reads back the attributes."""
    given = attributes()
    export_id = _create(store, attributes)
    with store.transaction() as session:
        export = get_export(session, export_id)
        assert isinstance(export, ZenodoDataExport)
        assert (export.type, export.name, export.state) == (
            "ZenodoDataExport",
            "alm_combined_stats_report",
            "pending",
        )
        assert len(export.export_key) == 32
        assert export.files == (given["files"][0],)
        assert export.publication_date == dt.date(2015, 5, 10)
        assert export.title == given["title"]
        assert export.description == given["description"]
        assert export.creators == ("Jane Doe",)
        assert export.keywords == ("alm", "plos")
        assert export.code_repository_url == given["code_repository_url"]
        assert (export.uploads, export.remote_deposition, export.attempts) == ({}, None, 0)


def test_every_export_gets_its_own_key(store: Store, attributes: Attributes) -> None:
    """Two exports of the same name get different export keys."""
    with store.transaction() as session:
        first = ZenodoDataExport.create(session, **attributes())
        second = ZenodoDataExport.create(session, **attributes())
        assert first.export_key != second.export_key


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", None),
        ("title", "   "),
        ("description", ""),
        ("creators", []),
        ("keywords", None),
        ("publication_date", "someday"),
        ("code_repository_url", "github.com/lagotto"),
    ],
)
def test_create_names_the_bad_field(
    store: Store, attributes: Attributes, field: str, value: object
) -> None:
    """A missing, blank or malformed attribute raises InvalidExport naming it; nothing is stored."""
    given = attributes(**{field: value})
    if value is None:
        del given[field]
    with pytest.raises(InvalidExport) as raised, store.transaction() as session:
        ZenodoDataExport.create(session, **given)
    assert raised.value.field == field
    with store.transaction() as session:
        assert count_exports(session) == 0


def test_create_checks_the_files(store: Store, attributes: Attributes, tmp_path: Path) -> None:
    """Missing, empty, directory and same-named files are each refused, naming the file."""
    empty = tmp_path / "empty.csv"
    empty.touch()
    twin = tmp_path / "twin"
    twin.mkdir()
    (twin / "alm_report.zip").write_bytes(b"x")
    cases = {
        str(tmp_path / "gone.zip"): "does not exist",
        str(empty): "is empty",
        str(tmp_path): "is not a regular file",
    }
    for path, problem in cases.items():
        with pytest.raises(InvalidExport, match=problem) as raised, store.transaction() as s:
            ZenodoDataExport.create(s, **attributes(files=[path]))
        assert raised.value.field == "files"
        assert path in str(raised.value)
    original = attributes()["files"][0]
    with (
        pytest.raises(InvalidExport, match=r"both named 'alm_report\.zip'"),
        store.transaction() as s,
    ):
        ZenodoDataExport.create(s, **attributes(files=[original, str(twin / "alm_report.zip")]))


def test_get_export_unknown_is_not_found(store: Store) -> None:
    """Asking for an export that does not exist raises NotFound with its id."""
    with pytest.raises(NotFound, match=r"^export 12 does not exist$"), store.transaction() as s:
        get_export(s, 12)


@pytest.mark.parametrize(
    ("failed", "finished", "started", "state"),
    [
        (None, None, None, "pending"),
        (None, None, T0, "processing"),
        (None, T0, T0, "done"),
        (T0, None, T0, "failed"),
        (T0, T0, T0, "failed"),
    ],
)
def test_derive_state(
    failed: dt.datetime | None,
    finished: dt.datetime | None,
    started: dt.datetime | None,
    state: ExportState,
) -> None:
    """State is failed, else done, else processing, else pending, as in Lagotto."""
    assert derive_state(failed_at=failed, finished_at=finished, started_at=started) == state


def test_list_exports_by_state_agrees_with_state(store: Store, attributes: Attributes) -> None:
    """Filtering in SQL by state returns exactly the exports whose state property says so."""
    ids = {state: _create(store, attributes) for state in EXPORT_STATES}
    _stamp(store, ids["processing"], started_exporting_at=T0)
    _stamp(store, ids["done"], started_exporting_at=T0, finished_exporting_at=T0)
    _stamp(store, ids["failed"], started_exporting_at=T0, failed_at=T0)
    with store.transaction() as session:
        for state, export_id in ids.items():
            found = list_exports(session, state=state)
            assert [export.id for export in found] == [export_id]
            assert found[0].state == state
            assert count_exports(session, state) == 1
        assert count_exports(session) == 4


def test_list_exports_newest_first_by_name_with_paging(
    store: Store, attributes: Attributes
) -> None:
    """Exports are listed newest first, filtered by name, one page at a time."""
    ids = [_create(store, attributes, name=f"report-{n % 2}") for n in range(5)]
    with store.transaction() as session:
        assert [e.id for e in list_exports(session)] == ids[::-1]
        assert [e.id for e in list_exports(session, name="report-0")] == [ids[4], ids[2], ids[0]]
        assert [e.id for e in list_exports(session, limit=2, offset=1)] == [ids[3], ids[2]]


def test_previous_version_is_the_newest_other_finished_one(
    store: Store, attributes: Attributes
) -> None:
    """previous_version ignores unfinished, failed, other names, other types and itself."""
    older = _create(store, attributes)
    newer = _create(store, attributes)
    _create(store, attributes)  # never started
    running = _create(store, attributes)
    failed = _create(store, attributes)
    other_name = _create(store, attributes, name="another_report")
    current = _create(store, attributes)
    _stamp(store, older, finished_exporting_at=T0)
    _stamp(store, newer, finished_exporting_at=T0 + dt.timedelta(days=30))
    _stamp(store, running, started_exporting_at=T0 + dt.timedelta(days=60))
    _stamp(store, failed, finished_exporting_at=T0 + dt.timedelta(days=61), failed_at=T0)
    _stamp(store, other_name, finished_exporting_at=T0 + dt.timedelta(days=90))
    _stamp(store, current, finished_exporting_at=T0 + dt.timedelta(days=99))
    with store.transaction() as session:
        snapshot = ApiSnapshot(name="alm_combined_stats_report", data={})
        snapshot.finished_exporting_at = T0 + dt.timedelta(days=95)
        session.add(snapshot)
    with store.transaction() as session:
        found = previous_version(session, get_export(session, current))
        assert found is not None and found.id == newer
        first = previous_version(session, get_export(session, older))
        assert first is not None and first.id == current
        assert previous_version(session, snapshot) is None


def test_timestamps_come_back_aware_utc(store: Store, attributes: Attributes) -> None:
    """Timestamps written in any zone come back as the same instant, aware, in UTC."""
    paris = dt.timezone(dt.timedelta(hours=2))
    started = dt.datetime(2015, 5, 10, 4, 50, 1, 123456, tzinfo=paris)
    export_id = _create(store, attributes)
    _stamp(store, export_id, started_exporting_at=started)
    with store.transaction() as session:
        export = get_export(session, export_id)
        session.expire(export)
        assert export.started_exporting_at == started
        assert export.started_exporting_at is not None
        assert export.started_exporting_at.tzinfo is dt.UTC
        assert export.created_at.tzinfo is dt.UTC
        assert export.updated_at.tzinfo is dt.UTC


def test_naive_timestamps_are_refused(store: Store, attributes: Attributes) -> None:
    """A naive datetime is an error rather than a guess about its zone."""
    export_id = _create(store, attributes)
    with pytest.raises(Exception, match="naive datetime"):
        _stamp(store, export_id, failed_at=dt.datetime(2015, 5, 10))


def test_top_level_json_changes_are_saved(store: Store, attributes: Attributes) -> None:
    """Setting a key of ``uploads`` in place is detected and saved without reassigning."""
    export_id = _create(store, attributes)
    entry = {"size": 9, "md5": "0" * 32, "uploaded_at": T0.isoformat()}
    with store.transaction() as session:
        export = get_export(session, export_id)
        export.uploads["alm_report.zip"] = entry
    with store.transaction() as session:
        reread = session.get(DataExport, export_id)
        assert reread is not None and reread.uploads == {"alm_report.zip": entry}
