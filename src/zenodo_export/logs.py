"""The worker's log: one record per line on stderr, as text or JSON, with every secret scrubbed.

``configure_logging`` is called once, at the edge (``zenodo-export worker``). Scrubbing is a
filter on the handler, not on a logger, so that it sees every record that reaches stderr,
whichever logger made it (ours, httpx, SQLAlchemy, an uncaught exception in a thread). It
rewrites the record's final message, its exception text and its stack text: the Zenodo token
and the database password become ``***`` (also percent-encoded or escaped), and so does the
password of any URL written ``scheme://user:password@host``.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from sqlalchemy.engine import make_url

from zenodo_export.redact import mask_url, scrub
from zenodo_export.settings import LogFormat, Settings

"""What a secret is replaced with."""

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
"""One ``text`` log line: time, level, logger, message (then the traceback, if any)."""

HANDLER_NAME = "zenodo-export"
"""Name of our stderr handler, so that configuring again replaces it instead of adding one."""

CHATTY_LOGGERS = ("alembic", "httpx", "httpcore")
"""Libraries that log every migration step or request at INFO: WARNING unless level is DEBUG."""

log = logging.getLogger("zenodo_export")


def configure_logging(*, level: int | str, fmt: LogFormat, secrets: Sequence[str]) -> None:
    """Send every log record to stderr as ``fmt``, from ``level`` up, with ``secrets`` scrubbed.

    Also routes what would otherwise bypass the log (Python warnings, uncaught exceptions in
    threads) through it, so that ``json`` output stays one object per line and is scrubbed too.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(Scrubber(secrets))
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(level)
    quiet = logging.NOTSET if root.getEffectiveLevel() <= logging.DEBUG else logging.WARNING
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(quiet)
    logging.captureWarnings(True)
    threading.excepthook = _log_uncaught


def secrets_of(settings: Settings) -> list[str]:
    """Return what must never be logged: the Zenodo token and the database password."""
    found = [settings.zenodo_token.get_secret_value()] if settings.zenodo_token else []
    password = database_password(settings.resolved_database_url)
    return found + ([password] if password else [])


def database_password(url: str) -> str | None:
    """Return the password in a database URL, or None (also when the URL does not parse)."""
    try:
        return make_url(url).password
    except Exception:  # a bad URL is reported when the store opens; here it hides nothing
        return None


class Scrubber(logging.Filter):
    """Replace each secret in a record's message, exception text and stack text with ``***``.

    Every form a secret may take in text is replaced: as is, percent-encoded (a password with
    ``@`` or ``/`` is written that way in a URL), and escaped as in a repr or in JSON. Longer
    forms are replaced first, so that a secret containing another is not left half visible.
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = list(secrets)

    def scrub(self, text: str) -> str:
        """Return ``text`` with every secret, and every URL's password, masked."""
        return mask_url(scrub(text, self.secrets))

    def filter(self, record: logging.LogRecord) -> bool:
        """Scrub ``record`` in place (every handler after this one sees it scrubbed); keep it."""
        record.msg = self.scrub(_final_message(record))
        record.args = ()
        if record.exc_info and not record.exc_text:
            record.exc_text = _TRACEBACKS.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = self.scrub(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object on one line, for log shippers.

    Keys: ``time`` (ISO 8601, UTC, milliseconds), ``level``, ``logger``, ``message``, and
    ``exception`` (the traceback) and ``stack`` when the record has them.
    """

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as one line of JSON (newlines in a traceback are escaped)."""
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry)


_TRACEBACKS = logging.Formatter()
"""Formats exception text the standard way, before it is scrubbed."""


def _final_message(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except Exception:  # a bad format string; logging would print msg and args raw to stderr
        return f"unformattable log message {record.msg!r} with arguments {record.args!r}"


def _log_uncaught(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return
    name = args.thread.name if args.thread is not None else "a thread"
    log.error("uncaught exception in %s", name, exc_info=args.exc_value)
