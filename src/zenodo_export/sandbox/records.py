"""Published records: the records API (``/api/records/...``) and the public HTML pages.

Records are public, as on Zenodo: no token needed. A record shows what was published, even
while an edit is in progress. ``/versions/latest`` redirects (302) to the newest version,
like InvenioRDM; a concept id redirects to its latest version too.
"""

from __future__ import annotations

from html import escape
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from zenodo_export.sandbox import serializers
from zenodo_export.sandbox.errors import not_found
from zenodo_export.sandbox.storage import Deposition
from zenodo_export.sandbox.web import file_response, json_response, path_int, sandbox_of, urls_of


def _published(request: Request, record_id: int) -> Deposition:
    dep = sandbox_of(request).storage.get(record_id)
    if dep is None or not dep.submitted:
        raise not_found()
    return dep


def _latest_id(request: Request, concept_id: int) -> int | None:
    published = [v.id for v in sandbox_of(request).storage.versions(concept_id) if v.submitted]
    return max(published) if published else None


def _record_json(request: Request, dep: Deposition) -> dict[str, object]:
    sandbox = sandbox_of(request)
    return serializers.record(dep, sandbox.files(dep), urls_of(request), sandbox.versions(dep))


async def get_record(request: Request) -> Response:
    """Return a published record; a concept id redirects to its latest version."""
    record_id = path_int(request)
    dep = sandbox_of(request).storage.get(record_id)
    if dep is None:
        latest = _latest_id(request, record_id)
        if latest is not None:
            return RedirectResponse(urls_of(request).record(latest), status_code=302)
    return json_response(_record_json(request, _published(request, record_id)))


async def list_record_files(request: Request) -> Response:
    """List a record's files (InvenioRDM shape: ``entries``)."""
    dep = _published(request, path_int(request))
    urls = urls_of(request)
    entries = [serializers.record_file(dep, f, urls) for f in sandbox_of(request).files(dep)]
    return json_response({"enabled": True, "entries": entries})


async def get_record_file_content(request: Request) -> Response:
    """Stream one file of a published record."""
    sandbox = sandbox_of(request)
    dep = _published(request, path_int(request))
    stored = sandbox.storage.file(dep.bucket, key=request.path_params["key"])
    if stored is None:
        raise not_found("File does not exist.")
    return file_response(request, stored)


async def list_versions(request: Request) -> Response:
    """List the published versions of a record's concept, newest first."""
    sandbox = sandbox_of(request)
    dep = _published(request, path_int(request))
    versions = [v for v in sandbox.storage.versions(dep.conceptrecid) if v.submitted]
    hits = [_record_json(request, v) for v in reversed(versions)]
    return json_response({"hits": {"hits": hits, "total": len(hits)}})


async def latest_version(request: Request) -> Response:
    """Redirect to the newest published version of a record's concept."""
    dep = _published(request, path_int(request))
    latest = _latest_id(request, dep.conceptrecid) or dep.id
    return RedirectResponse(urls_of(request).record(latest), status_code=302)


def _page(title: str, body: str) -> HTMLResponse:
    html = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"</head><body><h1>{escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(html)


async def record_page(request: Request) -> Response:
    """Show a published record as a minimal HTML page (``links.html`` / ``record_html``)."""
    dep = _published(request, path_int(request))
    stored = dep.record_metadata or {}
    items = "".join(
        f"<li><a href='{urls_of(request).record(dep.id)}/files/{quote(f.key, safe='')}/content'>"
        f"{escape(f.key)}</a> ({f.size} bytes, md5:{f.md5})</li>"
        for f in sandbox_of(request).files(dep)
    )
    doi = serializers.doi(dep.id)
    body = f"<p>DOI: <a href='https://doi.org/{doi}'>{doi}</a></p><ul>{items}</ul>"
    return _page(str(stored.get("title") or f"Record {dep.id}"), body)


async def deposit_page(request: Request) -> Response:
    """Show a deposition's state as a minimal HTML page (``links.html`` of a draft)."""
    dep = sandbox_of(request).storage.get(path_int(request))
    if dep is None:
        raise not_found()
    title = str(dep.metadata.get("title") or f"Deposition {dep.id}")
    return _page(title, f"<p>Deposition {dep.id}: {escape(dep.state)}</p>")


async def badge(request: Request) -> Response:
    """Return a small SVG badge naming a DOI."""
    doi = escape(request.path_params["doi"].removesuffix(".svg"))
    svg = (
        "<svg xmlns='http://www.w3.org/2000/svg' width='200' height='20'>"
        f"<text x='4' y='14' font-size='11'>DOI {doi}</text></svg>"
    )
    return Response(svg, media_type="image/svg+xml")


def routes() -> list[BaseRoute]:
    """Return the records API routes and the public pages."""
    one = "/api/records/{id:int}"
    return [
        Route(one, get_record, methods=["GET"]),
        Route(one + "/files", list_record_files, methods=["GET"]),
        Route(one + "/files/{key}/content", get_record_file_content, methods=["GET", "HEAD"]),
        Route(one + "/versions", list_versions, methods=["GET"]),
        Route(one + "/versions/latest", latest_version, methods=["GET"]),
        Route("/records/{id:int}", record_page, methods=["GET"]),
        Route("/deposit/{id:int}", deposit_page, methods=["GET"]),
        Route("/badge/doi/{doi:path}", badge, methods=["GET"]),
    ]
