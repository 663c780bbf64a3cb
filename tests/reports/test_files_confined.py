"""A report's ``files`` stay inside the config file's folder (or ``file_roots``), named once."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.reports.conftest import report_settings, write_config
from zenodo_export.config_file import read_config_file
from zenodo_export.errors import ConfigError, Rejected
from zenodo_export.reports import ReportRun, run_report
from zenodo_export.store import Store, get_export

pytestmark = pytest.mark.hostile

NOVEMBER = dt.date(2026, 11, 10)


def files_config(*files: str, extra: str = "") -> str:
    """Return the TOML of one files report, ``dump``, listing ``files``."""
    listed = ", ".join(repr(name) for name in files)
    return f"{extra}[reports.dump]\nfiles = [{listed}]\n"


@pytest.mark.parametrize(
    "entry", ["../outside.csv", "/etc/passwd", "sub/../../outside.csv", "~/x.csv"]
)
def test_paths_outside_the_config_folder_are_refused(tmp_path: Path, entry: str) -> None:
    """``..``, absolute paths and ``~`` outside the folder: one line naming entry and file."""
    config = tmp_path / "conf"
    path = write_config(config, files_config(entry))
    with pytest.raises(ConfigError) as caught:
        read_config_file(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: reports.dump.files: ")
    assert "is outside" in message and "file_roots" in message and "\n" not in message


def test_symlink_pointing_out_is_refused(tmp_path: Path) -> None:
    """A symlink inside the folder to /etc/passwd is refused, named as a symlink."""
    config = tmp_path / "conf"
    config.mkdir()
    (config / "innocent.csv").symlink_to("/etc/passwd")
    path = write_config(config, files_config("innocent.csv"))
    with pytest.raises(ConfigError, match=r"innocent\.csv \(a symlink pointing out of it\)"):
        read_config_file(path)


def test_symlink_made_after_loading_is_refused_at_run(
    sqlite_store: Store, sandbox: Any, tmp_path: Path
) -> None:
    """A file swapped for a symlink out after the config was read is refused when run."""
    config = tmp_path / "conf"
    config.mkdir()
    (config / "data.csv").write_text("a,b\n")
    settings = report_settings(sandbox, tmp_path, write_config(config, files_config("data.csv")))
    report = read_config_file(settings.config_path).report("dump")
    (config / "data.csv").unlink()
    (config / "data.csv").symlink_to("/etc/passwd")
    run = ReportRun(name="dump", report=report, date=NOVEMBER)
    with pytest.raises(Rejected, match=r"^report dump: file .*data\.csv \(a symlink"):
        run_report(sqlite_store, settings, run)


def test_file_roots_allow_more_folders(sqlite_store: Store, sandbox: Any, tmp_path: Path) -> None:
    """A file under a listed ``file_roots`` folder (relative to the config) is zipped."""
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "sources.csv").write_text("name\ncounter\n")
    config = tmp_path / "conf"
    body = files_config("../exports/sources.csv", extra="file_roots = ['../exports']\n")
    settings = report_settings(sandbox, tmp_path, write_config(config, body))
    run = ReportRun(
        name="dump", report=read_config_file(config / "config.toml").report("dump"), date=NOVEMBER
    )
    export_id = run_report(sqlite_store, settings, run)
    with (
        sqlite_store.transaction() as session,
        zipfile.ZipFile(get_export(session, export_id).files[0]) as archive,
    ):
        assert sorted(archive.namelist()) == ["README.md", "sources.csv"]


def test_symlink_inside_the_folder_is_allowed(tmp_path: Path) -> None:
    """A symlink to another file inside the folder is fine."""
    config = tmp_path / "conf"
    config.mkdir()
    (config / "real.csv").write_text("x\n")
    (config / "alias.csv").symlink_to(config / "real.csv")
    report = read_config_file(write_config(config, files_config("alias.csv"))).report("dump")
    assert report.files == (config / "alias.csv",)


@pytest.mark.parametrize(
    "files",
    [("a/data.csv", "b/data.csv"), ("README.md",)],
    ids=["two data.csv", "README.md"],
)
def test_duplicate_names_in_the_zip_are_an_error(tmp_path: Path, files: tuple[str, ...]) -> None:
    """Two files of one name (or one named like the README) are refused, both named."""
    path = write_config(tmp_path, files_config(*files))
    with pytest.raises(ConfigError, match=r"reports\.dump\.files: two files named '"):
        read_config_file(path)
