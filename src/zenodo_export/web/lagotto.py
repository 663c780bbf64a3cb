"""Lagotto's ``GET /api/data_exports`` (v7), unchanged for its clients.

What Lagotto did, read from lagotto/lagotto, and what this module does the same way:

* ``app/controllers/api/v7/data_exports_controller.rb``: every export, ``id DESC`` (newest
  first); ``per_page`` from 0 to 1000 is taken, any other whole number gives 1000 (the
  default); ``page`` above 0 is taken, any other gives 1. Pages are offsets (will_paginate).
* ``app/views/api/v7/data_exports/index.json.jbuilder``: ``meta`` {``status`` "ok",
  ``message-type`` "data-exports-list", ``message-version`` "v7", ``total``, ``total_pages``
  (1 when ``per_page`` is 0 or nothing matches), ``page`` (1 when nothing matches)} and
  ``data_exports``, each ``url``, ``type``, ``started_exporting_at``,
  ``finished_exporting_at``, ``failed_at``, ``state``, ``data``, in that order.
* ``config/initializers/jbuilder.rb`` sets ``Jbuilder.ignore_nil``: a key whose value is nil
  is left out (a pending export has no ``url``, ``failed_at``...), never sent as null.
* Rails 4.2 writes times as ISO 8601 in UTC with milliseconds: ``2015-07-14T14:58:42.123Z``.
* ``app/controllers/concerns/authenticable.rb``: ``Authorization: Token token=<key>`` (also
  ``token="<key>"`` or a bare ``Token <key>``); no or a wrong key is 401 with
  ``{"meta": {"status": "error", "error": "You are not authorized to access this page."}}``;
  ``?callback=f`` wraps the body as JSONP (``application/javascript``); successful answers carry
  ``Access-Control-Allow-Origin: *``. ``app/constraints/api_constraint.rb`` makes v7 the
  default, so ``Accept: application/json; version=7`` is honoured and not required.
* ``spec/apis/v7/data_exports_spec.rb``: a staff or admin key reads the list (our viewer and
  admin tokens; ``Bearer`` is taken too), JSON and JSONP.

Where Lagotto had no rule we answer 400 in its error shape: a ``page`` or ``per_page`` that is
not a whole number (Ruby's ``to_i`` made ``per_page=abc`` an empty page), a ``callback`` that is
not a JavaScript name (it is echoed into a script). A database outage is 503 in the same shape.

``data`` holds what Lagotto's ``data`` held, under its names: for a ``ZenodoDataExport`` the
record's metadata (``files``, ``publication_date``, ``title``, ``description``, ``creators``,
``keywords``, ``code_repository_url``, and the other metadata Zenodo shows publicly) and
``remote_deposition``, the deposition as Zenodo returned it; for an ``ApiSnapshot`` its crawl
options. Our own bookkeeping (``export_key``, the files store's keys, the host, the crawl's
cursor parts, header variable names) is not Lagotto's and stays out; the Zenodo token is
scrubbed from anything shown, and a snapshot URL's credentials are masked.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, cast

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zenodo_export.errors import Transient, ZenodoExportError
from zenodo_export.exports.spec import SEED_FIELDS
from zenodo_export.redact import MASK, forms
from zenodo_export.snapshots.secrets import public_url
from zenodo_export.store.models import DataExport, derive_state
from zenodo_export.store.tokens import authenticate
from zenodo_export.web.context import WebState

router = APIRouter()

PER_PAGE = 1000
"""Lagotto's default and largest page (``Api::V7::DataExportsController::PER_PAGE``)."""

NOT_AUTHORIZED = "You are not authorized to access this page."
"""Lagotto's message for a missing or wrong API key (``Authenticable``)."""

ZENODO_DATA = (
    *(name for name in SEED_FIELDS if name != "name"),
    "upload_type",
    "access_right",
    "license",
    "version",
    "communities",
    "related_identifiers",
)
"""Keys of a ``ZenodoDataExport``'s ``data`` shown: Lagotto's seven, then the metadata Zenodo
publishes with the record anyway."""

SNAPSHOT_DATA = {
    "pages_per_job": "pages_per_job",
    "start_page": "start_page",
    "stop_page": "stop_page",
    "benchmark": "benchmark",
    "snapshot_dir": "directory",
    "snapshot_date": "date",
}
"""An ``ApiSnapshot``'s ``data``: Lagotto's name -> ours."""

WHOLE = re.compile(r"\s*[+-]?\d{1,30}\s*")
CALLBACK = re.compile(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*")


class BadParameter(Exception):
    """A query parameter Lagotto had no rule for; its message names it."""


@dataclass(frozen=True)
class Paging:
    """What page was asked for, after Lagotto's rules."""

    page: int
    per_page: int

    @property
    def offset(self) -> int:
        """Rows before this page."""
        return (self.page - 1) * self.per_page


def whole(params: Mapping[str, str], name: str) -> int | None:
    """Return the whole number ``name`` holds, None when absent or empty; ``BadParameter``
    when it is something else."""
    raw = params.get(name)
    if raw is None or not raw.strip():
        return None
    if not WHOLE.fullmatch(raw):
        raise BadParameter(f"{name} must be a whole number, not {raw[:40]!r}")
    return int(raw)


def paging(params: Mapping[str, str]) -> Paging:
    """Apply Lagotto's rules: ``per_page`` outside 0..1000 is 1000, ``page`` below 1 is 1."""
    per_page, page = whole(params, "per_page"), whole(params, "page")
    return Paging(
        page=page if page is not None and page > 0 else 1,
        per_page=per_page if per_page is not None and 0 <= per_page <= PER_PAGE else PER_PAGE,
    )


def token_of(header: str) -> str | None:
    """The key in ``Authorization: Token token=<key>`` as Rails 4.2 reads it (or a bearer)."""
    if header.startswith("Bearer "):
        return header.removeprefix("Bearer ").strip() or None
    if not header.startswith("Token "):
        return None
    first = re.split(r"\s*(?:,|;|\t+)\s*", header.removeprefix("Token "))[0]
    if not first.startswith("token="):
        first = f"token={first}"
    value = re.sub(r'^"|"$', "", first.split("=", 1)[1])
    return value or None


def rails_time(value: dt.datetime | None) -> str | None:
    """Write a time as Rails 4.2 does in JSON: UTC, milliseconds, ``Z``."""
    if value is None:
        return None
    utc = value.astimezone(dt.UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


def _scrubbed(value: Any, masks: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        for form in masks:
            if form in value:
                value = value.replace(form, MASK)
        return value
    if isinstance(value, Mapping):
        return {key: _scrubbed(item, masks) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_scrubbed(item, masks) for item in value]
    return value


def masks_of(secrets: tuple[str, ...]) -> tuple[str, ...]:
    """Every form the secrets may take in text, longest first (as ``redact.scrub`` does)."""
    every = {form for secret in secrets if secret.strip() for form in forms(secret)}
    return tuple(sorted(every, key=len, reverse=True))


class Shown(Protocol):
    """The columns of an export this list reads (a row, not the whole ORM object)."""

    type: str
    url: str | None
    data: dict[str, Any]
    remote_deposition: dict[str, Any] | None
    started_exporting_at: dt.datetime | None
    finished_exporting_at: dt.datetime | None
    failed_at: dt.datetime | None


COLUMNS = (
    DataExport.type,
    DataExport.url,
    DataExport.data,
    DataExport.remote_deposition,
    DataExport.started_exporting_at,
    DataExport.finished_exporting_at,
    DataExport.failed_at,
)


def lagotto_data(export: Shown) -> dict[str, Any]:
    """The ``data`` Lagotto showed for an export of this type (see the module's docstring)."""
    stored = dict(export.data or {})
    if export.type == "ZenodoDataExport":
        data = {key: stored[key] for key in ZENODO_DATA if stored.get(key) is not None}
        if export.remote_deposition is not None:
            data["remote_deposition"] = export.remote_deposition
        return data
    if export.type == "ApiSnapshot":
        data = {ours: stored[key] for ours, key in SNAPSHOT_DATA.items() if stored.get(key)}
        cursor = stored.get("cursor") or {}
        if cursor.get("next_page") is not None:
            data["pageno"] = cursor["next_page"]
        if cursor.get("total_pages") is not None:
            data["num_pages"] = cursor["total_pages"]
        return data
    return {}


def item(export: Shown, masks: tuple[str, ...]) -> dict[str, Any]:
    """One export as Lagotto's v7 list shows it: nil keys left out, as Jbuilder did."""
    url = export.url
    if url and export.type == "ApiSnapshot":
        url = public_url(url)
    shown = {
        "url": url,
        "type": export.type,
        "started_exporting_at": rails_time(export.started_exporting_at),
        "finished_exporting_at": rails_time(export.finished_exporting_at),
        "failed_at": rails_time(export.failed_at),
        "state": derive_state(
            failed_at=export.failed_at,
            finished_at=export.finished_exporting_at,
            started_at=export.started_exporting_at,
        ),
        "data": _scrubbed(lagotto_data(export), masks),
    }
    return {key: value for key, value in shown.items() if value is not None}


def listing(session: Session, asked: Paging, secrets: tuple[str, ...]) -> dict[str, Any]:
    """Lagotto's whole v7 body for one page."""
    total = int(session.scalar(select(func.count(DataExport.id))) or 0)
    rows: list[Shown] = []
    if asked.per_page and asked.offset < total:
        # The offset walks the primary key's index alone; only the page's rows are read.
        ids = (
            select(DataExport.id)
            .order_by(DataExport.id.desc())
            .offset(asked.offset)
            .limit(asked.per_page)
        )
        statement = (
            select(*COLUMNS)
            .where(DataExport.id.in_(ids.scalar_subquery()))
            .order_by(DataExport.id.desc())
        )
        rows = [cast(Shown, row) for row in session.execute(statement).all()]
    total_pages = math.ceil(total / asked.per_page) if asked.per_page and total else 1
    meta = {
        "status": "ok",
        "message-type": "data-exports-list",
        "message-version": "v7",
        "total": total,
        "total_pages": total_pages,
        "page": asked.page if total else 1,
    }
    masks = masks_of(secrets)
    return {"meta": meta, "data_exports": [item(row, masks) for row in rows]}


def _json(body: Any) -> str:
    # Compact as Rails writes it; '<', '>', '&' and U+2028/9 escaped so JSONP stays one script.
    text = json.dumps(body, separators=(",", ":"), ensure_ascii=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def error(status: int, message: str, **headers: str) -> Response:
    """Lagotto's error body: ``{"meta": {"status": "error", "error": message}}``."""
    body = _json({"meta": {"status": "error", "error": message}})
    return Response(
        body, status_code=status, media_type="application/json; charset=utf-8", headers=headers
    )


def answer(body: Any, callback: str | None) -> Response:
    """The 200 answer, as JSON or (with ``callback``) JSONP, with Lagotto's CORS headers."""
    headers = {
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Allow-Methods": "POST, GET, OPTIONS",
        "Access-Control-Max-Age": "1728000",
        "X-Content-Type-Options": "nosniff",
    }
    if callback is not None:
        return Response(
            f"{callback}({_json(body)})", media_type="application/javascript", headers=headers
        )
    return Response(_json(body), media_type="application/json; charset=utf-8", headers=headers)


@router.get("/api/data_exports", include_in_schema=False)
@router.get("/api/data_exports.json", include_in_schema=False)
def data_exports(request: Request, web: WebState) -> Response:
    """Lagotto's v7 list of data exports, newest first (see the module's docstring)."""
    token = token_of(request.headers.get("authorization", ""))
    callback = request.query_params.get("callback")
    secret = web.settings.zenodo_token
    secrets = (secret.get_secret_value(),) if secret is not None else ()
    try:
        with web.store.transaction() as session:
            if token is None or authenticate(session, token) is None:
                return error(401, NOT_AUTHORIZED)
            if callback is not None and not (len(callback) <= 100 and CALLBACK.fullmatch(callback)):
                raise BadParameter(f"callback must be a JavaScript name, not {callback[:40]!r}")
            body = listing(session, paging(request.query_params), secrets)
    except BadParameter as exc:
        return error(400, str(exc))
    except Transient as exc:
        return error(503, str(exc), **{"Retry-After": "5"})
    except ZenodoExportError as exc:
        return error(500, str(exc))
    return answer(body, callback)
