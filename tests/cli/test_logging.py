"""The worker's log: start, claims, finishes and stop on stderr, as text or JSON, token scrubbed."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_cli import EXPORT_ARGS, a_file
from tests.fixtures.cli import CLI, sandbox_environment
from tests.fixtures.sandbox import SandboxFactory
from zenodo_export.logs import (
    CHATTY_LOGGERS,
    JsonFormatter,
    Scrubber,
    configure_logging,
    database_password,
    secrets_of,
)
from zenodo_export.settings import load_settings

TOKEN = "tok-VISIBLE-2f9c41e7"
"""A Zenodo token that the sandbox accepts and that is easy to spot in any output."""


def zenodo_export(
    env: dict[str, str], tmp_path: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    """Run ``zenodo-export ARGS...`` and return the finished process."""
    return subprocess.run(
        [*CLI, *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def env(sandbox_factory: SandboxFactory, tmp_path: Path) -> dict[str, str]:
    """Settings for CLI processes against a sandbox that accepts ``TOKEN``."""
    return sandbox_environment(sandbox_factory(tokens=[TOKEN]), tmp_path)


def queue_export(env: dict[str, str], tmp_path: Path, *extra: str) -> int:
    """Queue an export of a file whose name is the token, so that progress lines name it."""
    path = a_file(tmp_path, name=f"{TOKEN}.csv")
    created = zenodo_export(env, tmp_path, "export", path, *EXPORT_ARGS, *extra)
    assert created.returncode == 0, created.stderr
    return int(created.stdout)


def test_text_log_has_start_claim_finish_and_stop_and_never_the_token(
    env: dict[str, str], tmp_path: Path
) -> None:
    """One queued export: stderr has the start, the claim, the finish (done) and the stop."""
    export_id = queue_export(env, tmp_path)
    result = zenodo_export(env, tmp_path, "worker", "--burst")
    assert result.returncode == 0, result.stderr
    log = result.stderr
    assert re.search(r"INFO zenodo_export\.jobs: worker \S+ started: 1 thread", log), log
    assert re.search(rf"claimed data_export job \d+, export {export_id} \(attempt 1\)", log), log
    assert re.search(rf"finished data_export job \d+, export {export_id}: done in [\d.]+ s", log)
    assert re.search(r"worker \S+ stopped after 1 job\(s\)", log), log
    assert TOKEN not in log
    assert "uploading ***.csv" in log, log  # the record named the token: it was scrubbed


def test_json_log_is_one_object_per_line_and_never_the_token(
    env: dict[str, str], tmp_path: Path
) -> None:
    """--log-format json: every stderr line is JSON; a failure quoting the token is scrubbed."""
    done_id = queue_export(env, tmp_path)
    failed_id = queue_export(env, tmp_path, "--name", "other", "--license", TOKEN)
    result = zenodo_export(env, tmp_path, "worker", "--burst", "--log-format", "json")
    assert result.returncode == 0, result.stderr
    assert TOKEN not in result.stderr
    records = [json.loads(line) for line in result.stderr.splitlines()]
    assert all(set(r) == {"time", "level", "logger", "message"} for r in records), records
    messages = [r["message"] for r in records]
    assert any(m.startswith("worker ") and " started: " in m for m in messages), messages
    assert any(f"export {done_id}: done in " in m for m in messages), messages
    assert any(f"export {failed_id}: failed in " in m for m in messages), messages
    failure = next(r for r in records if r["level"] == "ERROR")
    assert f"export {failed_id} failed for good" in failure["message"]
    assert "Invalid license provided: ***" in failure["message"]


def test_the_option_wins_over_the_setting(env: dict[str, str], tmp_path: Path) -> None:
    """ZENODO_EXPORT_LOG_FORMAT=json logs JSON; --log-format text overrides it."""
    env = {**env, "ZENODO_EXPORT_LOG_FORMAT": "json"}
    as_set = zenodo_export(env, tmp_path, "worker", "--burst")
    assert as_set.returncode == 0, as_set.stderr
    assert {json.loads(line)["level"] for line in as_set.stderr.splitlines()} == {"INFO"}
    overridden = zenodo_export(env, tmp_path, "worker", "--burst", "--log-format", "text")
    assert overridden.returncode == 0, overridden.stderr
    assert " INFO zenodo_export.jobs: worker " in overridden.stderr.splitlines()[0]


def test_the_log_level_setting_hides_less_severe_records(
    env: dict[str, str], tmp_path: Path
) -> None:
    """ZENODO_EXPORT_LOG_LEVEL=warning: a worker that only starts and stops logs nothing."""
    env = {**env, "ZENODO_EXPORT_LOG_LEVEL": "warning"}
    result = zenodo_export(env, tmp_path, "worker", "--burst")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_a_bad_log_format_setting_is_one_line(env: dict[str, str], tmp_path: Path) -> None:
    """An unknown ZENODO_EXPORT_LOG_FORMAT stops the worker with one line naming it."""
    result = zenodo_export({**env, "ZENODO_EXPORT_LOG_FORMAT": "xml"}, tmp_path, "worker")
    assert result.returncode == 3
    assert result.stderr.startswith("error: setting ZENODO_EXPORT_LOG_FORMAT:"), result.stderr


# The scrubber and the formatter, on records made here.


def record(msg: str, *args: Any, exc: BaseException | None = None) -> logging.LogRecord:
    """Make a record as ``logging`` does, with the exception (and its traceback) if given."""
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    return logging.LogRecord("zenodo_export.test", logging.ERROR, __file__, 1, msg, args, exc_info)


def raised(exc: BaseException) -> BaseException:
    """Return ``exc`` after raising it, so that it has a traceback."""
    try:
        raise exc
    except BaseException as caught:
        return caught


def test_the_scrubber_masks_secrets_in_the_final_message_and_the_traceback() -> None:
    """A secret passed as an argument, in the exception message and in its cause is masked."""
    cause = raised(ValueError(f"token {TOKEN} refused"))
    try:
        raise RuntimeError("upload failed") from cause
    except RuntimeError as exc:
        rec = record("calling with %s and %r", TOKEN, {"token": TOKEN}, exc=exc)
    assert Scrubber([TOKEN]).filter(rec)
    text = logging.Formatter().format(rec)
    assert TOKEN not in text
    assert "calling with *** and {'token': '***'}" in text
    assert "ValueError: token *** refused" in text and "RuntimeError: upload failed" in text


def test_the_scrubber_masks_a_password_however_written_and_any_url_password() -> None:
    """A password is masked as is, percent-encoded and escaped; so is any URL's password."""
    password = "p@ss/w0rd'\\x"
    rec = record(
        "db %s, raw %s, repr %r, other %s",
        "postgresql://app:p%40ss%2Fw0rd%27%5Cx@db/prod",
        password,
        {"password": password},
        "postgresql://reports:hunter2@other/db",
    )
    Scrubber([password]).filter(rec)
    assert rec.getMessage() == (
        "db postgresql://app:***@db/prod, raw ***, repr {'password': \"***\"}, "
        "other postgresql://reports:***@other/db"
    )


def test_the_scrubber_keeps_a_message_whose_arguments_do_not_fit_and_masks_it() -> None:
    """A bad format string is logged as its parts (masked), not printed raw by logging."""
    rec = record("%d items", TOKEN)
    Scrubber([TOKEN]).filter(rec)
    assert TOKEN not in rec.getMessage() and "'%d items'" in rec.getMessage()


def test_secrets_of_settings_are_the_token_and_the_database_password() -> None:
    """The token and the (decoded) database password; a SQLite URL has none."""
    settings = load_settings(
        zenodo_token=TOKEN, database_url="postgresql://app:p%40ss@127.0.0.1/prod"
    )
    assert secrets_of(settings) == [TOKEN, "p@ss"]
    assert secrets_of(load_settings(database_url="sqlite:////tmp/x.db")) == []
    assert database_password("not a url") is None


def test_the_json_formatter_writes_the_exception_on_the_same_line() -> None:
    """An exception's traceback is the ``exception`` key of the one JSON line."""
    rec = record("it %s", "broke", exc=raised(KeyError("k")))
    line = JsonFormatter().format(rec)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "it broke" and entry["level"] == "ERROR"
    assert entry["logger"] == "zenodo_export.test" and entry["time"].endswith("+00:00")
    assert entry["exception"].startswith("Traceback") and "KeyError: 'k'" in entry["exception"]


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """Undo what ``configure_logging`` changes in this process."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in CHATTY_LOGGERS}
    hook = threading.excepthook
    yield
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)
    threading.excepthook = hook
    logging.captureWarnings(False)


def test_configure_logging_scrubs_every_logger_and_thread_deaths(
    restored_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """Any logger's record, and an uncaught exception in a thread, reach stderr scrubbed."""
    configure_logging(level="INFO", fmt="json", secrets=[TOKEN])
    configure_logging(level="INFO", fmt="json", secrets=[TOKEN])  # replaces, does not add
    logging.getLogger("some.library").warning("sent %s", TOKEN)
    logging.getLogger("httpx").info("HTTP Request: GET /?t=%s", TOKEN)  # below WARNING: hidden

    def die() -> None:
        raise RuntimeError(f"bad token {TOKEN}")

    thread = threading.Thread(target=die, name="doomed")
    thread.start()
    thread.join()
    err = capsys.readouterr().err
    assert TOKEN not in err
    entries = [json.loads(line) for line in err.splitlines()]
    assert [e["message"] for e in entries] == ["sent ***", "uncaught exception in doomed"]
    assert "RuntimeError: bad token ***" in entries[1]["exception"]
