"""The config file: every mistake is one line naming the file, the entry and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from zenodo_export.config_file import SnapshotEntry, load_config_file, read_config_file
from zenodo_export.errors import ConfigError, NotFound
from zenodo_export.schedules.configured import report_schedules
from zenodo_export.settings import Settings
from zenodo_export.snapshots.options import CONCURRENCY, SnapshotRequest

GOOD = """
[schedules]
monthly_day = 12
monthly_time = "03:15"

[reports.monthly]
database_url = "sqlite:///alm.db"
query = "SELECT 1"
schedule = "monthly"

[reports.weekly]
files = ["a.csv"]
schedule = "0 6 * * 1"

[reports.by_hand]
files = ["b.csv"]
"""


WORKS = "[snapshots.w]\nurl = 'https://example.org/api/works'\n"
"""The start of a snapshot entry, ``w``."""


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(body)
    return path


@pytest.mark.parametrize(
    "body,where,message",
    [
        ("[reports.m]\nquery = 'SELECT 1'\n", "reports.m.database_url", "required with query"),
        ("[reports.m]\ntitle = 'x'\n", "reports.m.files", "needs query"),
        (
            "[reports.m]\nfiles = ['a']\nquery = 'SELECT 1'\ndatabase_url = 'sqlite://'\n",
            "reports.m.files",
            "not both",
        ),
        ("[reports.m]\nfiles = ['a']\nqurey = 'x'\n", "reports.m.qurey", "is not a known field"),
        ("[reports.m]\nfiles = ['a']\nschedule = 'daily'\n", "reports.m.schedule", "cron rule"),
        ("[reports.m]\nfiles = ['a']\ntitle = '{when}'\n", "reports.m.title", "{when}"),
        ("[schedules]\nmonthly_day = 31\n", "schedules.monthly_day", "28"),
        ("[schedules]\ntimezone = 'Mars/Base'\n", "schedules.timezone", "Mars/Base"),
        ("[reports.'a b']\nfiles = ['a']\n", "reports", "'a b'"),
        ("[reprots.m]\nfiles = ['a']\n", "reprots", "is not a known field"),
        (f"{WORKS}start_page = 4\nstop_page = 2\n", "snapshots.w.stop_page", "before the start"),
        (f"{WORKS}concurrency = 0\n", "snapshots.w.concurrency", "must be at least 1"),
        (f"{WORKS}pages_per_job = 0\n", "snapshots.w.pages_per_job", "must be at least 1"),
        ("[snapshots.w]\nurl = 'ftp://example.org/api'\n", "snapshots.w.url", "not an http(s)"),
        ("[snapshots.w]\nschedule = 'monthly'\n", "snapshots.w.url", "is required"),
        (f"{WORKS}schedule = 'often'\n", "snapshots.w.schedule", "cron rule"),
        (f"{WORKS}concurency = 2\n", "snapshots.w.concurency", "is not a known field"),
    ],
)
def test_config_mistakes_name_file_entry_and_key(
    tmp_path: Path, body: str, where: str, message: str
) -> None:
    """Each mistake is one line: ``<file>: <table>.<key>: <what is wrong>``."""
    path = write(tmp_path, body)
    with pytest.raises(ConfigError) as caught:
        read_config_file(path)
    text = str(caught.value)
    assert text.startswith(f"{path}: {where}: ") and message in text
    assert "\n" not in text


def test_bad_toml_is_one_line(tmp_path: Path) -> None:
    """A syntax error names the file and the line."""
    path = write(tmp_path, "[reports.m\nfiles = 1\n")
    with pytest.raises(ConfigError, match=rf"^{path}: not valid TOML: .*line 1"):
        read_config_file(path)


def test_missing_default_file_is_no_reports_but_explicit_one_is_an_error(tmp_path: Path) -> None:
    """Nothing at the default path means no reports; a named file that is missing stops us."""
    assert load_config_file(Settings(data_dir=tmp_path)).reports == {}
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match=rf"^{missing}: cannot read: No such file"):
        load_config_file(Settings(data_dir=tmp_path, config=missing))


def test_schedules_come_from_reports_with_monthly_expanded(tmp_path: Path) -> None:
    """``monthly`` becomes the [schedules] day and time; reports without a schedule have none."""
    config_file = read_config_file(write(tmp_path, GOOD))
    schedules = {s.name: s for s in report_schedules(config_file)}
    assert set(schedules) == {"reports.monthly", "reports.weekly"}
    assert schedules["reports.monthly"].rule == "15 3 12 * *"
    assert schedules["reports.monthly"].written == "monthly"
    assert (schedules["reports.weekly"].rule, schedules["reports.weekly"].target) == (
        "0 6 * * 1",
        "weekly",
    )
    assert config_file.report("weekly").files == (tmp_path / "a.csv",)  # beside the config file


def test_unknown_report_lists_the_known_ones(tmp_path: Path) -> None:
    """Asking for a report the file lacks is NotFound naming the file and the known reports."""
    path = write(tmp_path, GOOD)
    with pytest.raises(NotFound, match=rf"^report 'yearly' is not in {path} \(reports: by_hand"):
        read_config_file(path).report("yearly")


def test_snapshot_entry_has_the_commands_defaults(tmp_path: Path) -> None:
    """A bare snapshot entry is a SnapshotRequest with its defaults, ``upload`` false too."""
    path = write(tmp_path, WORKS)
    entry = read_config_file(path).snapshot("w")
    asked = SnapshotRequest(url=entry.url)
    assert isinstance(entry, SnapshotRequest)
    assert entry.model_dump(exclude={"schedule"}) == asked.model_dump()
    assert entry.concurrency == CONCURRENCY == 4
    assert (entry.upload, asked.upload, entry.schedule) == (False, False, None)
    assert set(SnapshotEntry.model_fields) == set(SnapshotRequest.model_fields) | {"schedule"}


def test_unknown_snapshot_lists_the_known_ones(tmp_path: Path) -> None:
    """Asking for a snapshot entry the file lacks is NotFound naming the file and the known ones."""
    path = write(tmp_path, WORKS)
    with pytest.raises(NotFound, match=rf"^snapshot 'v' is not in {path} \(snapshots: w\)$"):
        read_config_file(path).snapshot("v")
