"""Hostile local input given to the real CLI: files that are not files, names and text that
would mislead a reader of the record, config files that are not config files.

Each case runs ``zenodo-export`` as a subprocess and ends in one line naming the file, field or
setting, a non-zero exit, no traceback, and the export stored before it untouched.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fixtures.cli import CLI, one_line_error
from tests.fixtures.environment import clean_environment

pytestmark = pytest.mark.hostile

Run = Callable[..., subprocess.CompletedProcess[str]]

EXPORT = ["export", "--name", "n", "--title", "T", "--description", "D", "--keyword", "k"]


@pytest.fixture
def run(tmp_path: Path) -> Run:
    """Run the CLI in ``tmp_path`` on its own SQLite file; one good export is stored first."""
    env = clean_environment(
        DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}",
        ZENODO_EXPORT_DATA_DIR=str(tmp_path / "data"),
        CREATOR="Doe, Jane",
        GITHUB_URL="https://github.com/example/tool",
    )

    def run_cli(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*CLI, *args],
            env={**env, **extra},
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
        )

    (tmp_path / "good.csv").write_text("a,b\n1,2\n")
    assert run_cli(*EXPORT, "good.csv").returncode == 0
    return run_cli


def only_the_good_export(run: Run) -> None:
    """Check the database still holds the one good export, as it was."""
    listed = run("list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert '"id": 1' in listed.stdout and '"id": 2' not in listed.stdout


@pytest.mark.parametrize(
    "make,words",
    [
        pytest.param(
            lambda p: os.mkfifo(p / "pipe.csv") or "pipe.csv",
            ("pipe.csv", "not a regular file"),
            id="fifo",
        ),
        pytest.param(lambda p: "/dev/zero", ("/dev/zero", "not a regular file"), id="device"),
        pytest.param(
            lambda p: (p / "zero.csv").symlink_to("/dev/zero") or "zero.csv",
            ("zero.csv", "not a regular file"),
            id="link-to-device",
        ),
        pytest.param(
            lambda p: ((p / "l1").symlink_to("l2"), (p / "l2").symlink_to("l1")) and "l1",
            ("l1",),
            id="symlink-loop",
        ),
        pytest.param(
            lambda p: (p / "dir.csv").mkdir() or "dir.csv",
            ("dir.csv", "not a regular file"),
            id="directory",
        ),
    ],
)
def test_export_files_that_are_not_files(
    make: Callable[[Path], str], words: tuple[str, ...], run: Run, tmp_path: Path
) -> None:
    """A pipe, a device or a loop is never read (it could block or never end): one line."""
    one_line_error(run(*EXPORT, make(tmp_path)), 4, "files:", *words)
    only_the_good_export(run)


def test_a_file_name_with_a_line_break_is_refused(run: Run, tmp_path: Path) -> None:
    """A line break in a file name would forge lines in listings and in the record."""
    (tmp_path / "fake\nREADME.txt").write_text("x")
    one_line_error(run(*EXPORT, "fake\nREADME.txt"), 4, "files:", "control character")
    only_the_good_export(run)


@pytest.mark.parametrize(
    "option,value,field",
    [
        ("--title", "Report \x1b[2J\x1b[31mOK", "--title"),
        ("--creator", "Doe\x1b]0;pwned\x07, Jane", "--creator (default: $CREATOR)"),
        ("--keyword", "data\rforged", "--keyword"),
        ("--description", "text\x07bell", "--description"),
    ],
)
def test_control_characters_in_metadata_are_refused(
    option: str, value: str, field: str, run: Run, tmp_path: Path
) -> None:
    """Terminal escapes, NUL, carriage returns and bells never reach a published record."""
    args = [*EXPORT[:-2], "--keyword", "k"] if option != "--keyword" else EXPORT[:-2]
    one_line_error(run(*args, option, value, "good.csv"), 4, f"{field}:", "control character")
    only_the_good_export(run)


def test_nul_in_metadata_is_refused_by_the_library() -> None:
    """The library refuses NUL, which a command line cannot carry."""
    from zenodo_export.errors import InvalidExport
    from zenodo_export.exports.spec import parse_spec

    attributes = {
        "name": "n",
        "files": ["/tmp/x"],
        "publication_date": "2026-01-01",
        "title": "T",
        "description": "D",
        "creators": ["Doe\x00, Jane"],
        "keywords": ["k"],
        "code_repository_url": "https://github.com/example/tool",
    }
    with pytest.raises(InvalidExport, match="creators: holds a control character"):
        parse_spec(attributes)


def test_a_description_keeps_its_lines_and_tabs(run: Run) -> None:
    """Line breaks and tabs are what a description is made of: accepted."""
    args = [*EXPORT[:6], "line one\n\tline two", "--keyword", "k", "good.csv"]
    assert run(*args).returncode == 0


@pytest.mark.parametrize(
    "make,words",
    [
        pytest.param(
            lambda p: (
                (p / "deep.toml").write_text("x = " + "[" * 100_000 + "]" * 100_000) and "deep.toml"
            ),
            ("deep.toml", "nested too deep"),
            id="nested-100000-deep",
        ),
        pytest.param(
            lambda p: (p / "latin.toml").write_bytes(b'title = "caf\xe9"') and "latin.toml",
            ("latin.toml", "not UTF-8"),
            id="not-utf8",
        ),
        pytest.param(
            lambda p: (p / "big.toml").write_text("# x\n" * 600_000) and "big.toml",
            ("big.toml", "larger than"),
            id="two-megabytes",
        ),
        pytest.param(
            lambda p: os.mkfifo(p / "pipe.toml") or "pipe.toml",
            ("pipe.toml", "not a regular file"),
            id="fifo",
        ),
        pytest.param(lambda p: "/dev/zero", ("/dev/zero", "not a regular file"), id="device"),
        pytest.param(
            lambda p: (p / "bin.toml").write_bytes(b"\x00\x01\x02") and "bin.toml",
            ("bin.toml", "not valid TOML"),
            id="binary",
        ),
    ],
)
def test_config_files_that_are_not_config_files(
    make: Callable[[Path], str], words: tuple[str, ...], run: Run, tmp_path: Path
) -> None:
    """A config that is too deep, too big, not text or not a file: one line, exit 3."""
    path = make(tmp_path)
    one_line_error(run("schedule", "list", ZENODO_EXPORT_CONFIG=path), 3, *words)
    only_the_good_export(run)


def test_a_snapshot_url_longer_than_2048_characters_is_refused(run: Run) -> None:
    """A URL no database column or server takes is refused before anything is stored."""
    url = "http://127.0.0.1:9/api?q=" + "a" * 3000
    line = one_line_error(run("snapshot", url), 4, "longer than 2048 characters")
    assert len(line) < 500, "the message repeats the whole URL"
    only_the_good_export(run)
