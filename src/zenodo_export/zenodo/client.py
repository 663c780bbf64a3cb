"""The one module that talks to Zenodo: the legacy deposit API plus the bucket upload.

``ZenodoClient`` builds requests; httpx sends them (pass ``transport=`` to swap how). Every
httpx error and every unsuccessful answer is translated here, and only here, into our
exception tree (see ``responses.py``). The token travels in the ``Authorization`` header, never
in a URL, never in a message, and only to the ``ZENODO_URL`` origin (scheme, host and port): an
absolute URL in an answer (a bucket, a next page, a redirect) on another origin gets no token.
``ZENODO_URL`` itself is checked by ``zenodo_url_problem``: no userinfo, no query, and plain
``http://`` only for loopback hosts unless the deployer allows it.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import IO, Any
from urllib.parse import SplitResult, quote, urlsplit

import httpx

from zenodo_export import defaults
from zenodo_export.errors import ChecksumMismatch, ConfigError, Rejected, Transient
from zenodo_export.zenodo.models import Deposition, RemoteFile
from zenodo_export.zenodo.responses import error_for

Progress = Callable[[int], None]
Opener = Callable[[], IO[bytes]]
"""Opens a file's content for reading (a file of the files store)."""
"""Called with the number of bytes just sent."""

Pace = Callable[[], object]
"""Called before every request is sent; blocks until the request may go (``Pacer``)."""


Origin = tuple[str, str, int]
"""A URL's scheme, host and port (the default port filled in)."""

DEFAULT_PORTS = {"http": 80, "https": 443}
"""The port of each scheme when a URL does not say it."""


def is_loopback_host(host: str) -> bool:
    """Say whether ``host`` is ``localhost`` or a loopback address (no DNS is asked)."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def zenodo_url_problem(url: str, *, allow_insecure_http: bool = False) -> str | None:
    """Return why ``url`` cannot be ``ZENODO_URL`` (never quoting it), or None if it can."""
    try:
        parts: SplitResult = urlsplit(url.strip())
        parts.port  # noqa: B018 - parsing the port is what may fail
    except ValueError:
        return "is not a URL"
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return "must be an http(s) URL with a host"
    if "@" in parts.netloc:
        return "must not contain user:password@ (set the token in ZENODO_TOKEN)"
    if parts.query or url.strip().endswith("?"):
        return "must not contain a query string (set the token in ZENODO_TOKEN)"
    if parts.fragment:
        return "must not contain a #fragment"
    if parts.scheme == "http" and not allow_insecure_http and not is_loopback_host(parts.hostname):
        return (
            "uses plain http:// for a host that is not loopback "
            "(use https://, or set ZENODO_EXPORT_ALLOW_INSECURE_HTTP=true)"
        )
    return None


def origin_of(url: httpx.URL) -> Origin:
    """Return the scheme, host and port of ``url``."""
    port = url.port if url.port is not None else DEFAULT_PORTS.get(url.scheme, 0)
    return (url.scheme, url.host.lower(), port)


class OriginBearer(httpx.Auth):
    """Send the token as a Bearer header to one origin only; other origins get none."""

    def __init__(self, token: str, origin: Origin) -> None:
        self._header = f"Bearer {token}"
        self.origin = origin

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if origin_of(request.url) == self.origin:
            request.headers["Authorization"] = self._header
        else:
            request.headers.pop("Authorization", None)
        yield request


@dataclass(frozen=True)
class Upload:
    """A file that reached Zenodo whole: its name, size and md5 as both sides computed."""

    name: str
    size: int
    md5: str


class ZenodoClient:
    """A client for one Zenodo instance and one token."""

    def __init__(
        self,
        base_url: str,
        token: str | None,
        *,
        timeout: float = defaults.HTTP_TIMEOUT,
        chunk_size: int = defaults.UPLOAD_CHUNK_SIZE,
        transport: httpx.BaseTransport | None = None,
        pacer: Pace | None = None,
        allow_insecure_http: bool = False,
    ) -> None:
        problem = zenodo_url_problem(base_url, allow_insecure_http=allow_insecure_http)
        if problem is not None:
            raise ConfigError(f"ZENODO_URL {problem}")
        if not token:
            raise ConfigError("ZENODO_TOKEN is not set (ZENODO_KEY is read too)")
        self.base_url = base_url.strip().rstrip("/") + "/"
        self.chunk_size = chunk_size
        self.origin = origin_of(httpx.URL(self.base_url))
        # A request hook runs for every request sent, redirects included: the auth flow
        # adds the token for our origin, the hook takes it off any other (httpx itself
        # keeps it on an http -> https redirect of the same host).
        hooks: list[Callable[[httpx.Request], object]] = [self._strip_foreign_token]
        if pacer is not None:
            hooks.append(lambda _request: pacer())
        self._http = httpx.Client(
            base_url=self.base_url,
            auth=OriginBearer(token, self.origin),
            headers={"Accept": "application/json"},
            timeout=httpx.Timeout(timeout),
            transport=transport,
            follow_redirects=True,
            event_hooks={"request": hooks},
        )

    def _strip_foreign_token(self, request: httpx.Request) -> None:
        if origin_of(request.url) != self.origin:
            request.headers.pop("Authorization", None)

    def __enter__(self) -> ZenodoClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    # Depositions -------------------------------------------------------------------------

    def create_deposition(self, metadata: dict[str, Any]) -> Deposition:
        """Create a draft deposition with its metadata (201)."""
        body = self._json(
            "POST", "deposit/depositions", "creating a deposition", json={"metadata": metadata}
        )
        return Deposition(body)

    def get_deposition(self, deposition_id: int) -> Deposition:
        """Read one deposition."""
        return Deposition(
            self._json(
                "GET", f"deposit/depositions/{deposition_id}", f"reading deposition {deposition_id}"
            )
        )

    def list_depositions(
        self,
        *,
        status: str | None = None,
        query: str | None = None,
        size: int = 100,
        page: int = 1,
    ) -> list[Deposition]:
        """List the token owner's depositions, newest first (served from a lagging index)."""
        params: dict[str, str | int] = {"size": size, "page": page, "sort": "mostrecent"}
        if status:
            params["status"] = status
        if query:
            params["q"] = query
        body = self._json("GET", "deposit/depositions", "listing depositions", params=params)
        return [Deposition(item) for item in body or ()]

    def iter_depositions(
        self, *, status: str | None = None, query: str | None = None
    ) -> Iterator[Deposition]:
        """Yield every deposition the list gives, page by page (at most 100 a page)."""
        page = 1
        while True:
            batch = self.list_depositions(status=status, query=query, size=100, page=page)
            yield from batch
            if len(batch) < 100:
                return
            page += 1

    def latest_version_id(self, record_id: int) -> int:
        """Return the id of the newest published version of ``record_id``'s concept."""
        body = self._json(
            "GET",
            f"records/{record_id}/versions/latest",
            f"finding the latest version of record {record_id}",
        )
        return int(body["id"])

    def update_metadata(self, deposition_id: int, metadata: dict[str, Any]) -> Deposition:
        """Replace a draft's metadata (Zenodo's PUT replaces, it does not merge)."""
        return Deposition(
            self._json(
                "PUT",
                f"deposit/depositions/{deposition_id}",
                f"updating the metadata of deposition {deposition_id}",
                json={"metadata": metadata},
            )
        )

    def delete_deposition(self, deposition_id: int) -> None:
        """Delete an unpublished deposition."""
        self._send(
            "DELETE", f"deposit/depositions/{deposition_id}", f"deleting deposition {deposition_id}"
        )

    def publish(self, deposition_id: int) -> Deposition:
        """Publish a draft (202); the body is the published deposition."""
        return Deposition(
            self._json(
                "POST",
                f"deposit/depositions/{deposition_id}/actions/publish",
                f"publishing deposition {deposition_id}",
            )
        )

    def new_version(self, deposition_id: int) -> Deposition:
        """Open a new-version draft of a published record and return that draft.

        Today's Zenodo answers with the new draft; the old docs said the body is the original
        with the draft in ``links.latest_draft``, so both are handled.
        """
        body = Deposition(
            self._json(
                "POST",
                f"deposit/depositions/{deposition_id}/actions/newversion",
                f"opening a new version of deposition {deposition_id}",
            )
        )
        if body.id != deposition_id:
            return body
        draft_url = body.links.get("latest_draft")
        if not draft_url:
            raise Transient(f"Zenodo gave no new-version draft for deposition {deposition_id}")
        return Deposition(
            self._json("GET", draft_url, f"reading the new version of deposition {deposition_id}")
        )

    # Files -------------------------------------------------------------------------------

    def list_files(self, deposition_id: int) -> list[RemoteFile]:
        """List a deposition's files with their md5 checksums."""
        body = self._json(
            "GET",
            f"deposit/depositions/{deposition_id}/files",
            f"listing the files of deposition {deposition_id}",
        )
        return [RemoteFile.from_json(item) for item in body or ()]

    def delete_file(self, deposition_id: int, file_id: str) -> None:
        """Delete one file of a draft through the deposit API (204)."""
        self._send(
            "DELETE",
            f"deposit/depositions/{deposition_id}/files/{file_id}",
            f"deleting file {file_id} of deposition {deposition_id}",
        )

    def upload(
        self,
        bucket_url: str,
        path: str | os.PathLike[str],
        *,
        name: str | None = None,
        progress: Progress | None = None,
        opener: Opener | None = None,
        size: int | None = None,
    ) -> Upload:
        """Stream one file into a bucket, computing its md5 on the way, and check Zenodo's.

        The file is ``path`` on this machine, or what ``opener`` opens (a file of the files
        store, ``size`` bytes; ``path`` then only names it). Memory stays at about one chunk
        whatever the file's size. An existing file of the same name is overwritten. Raises
        ``ChecksumMismatch`` if Zenodo got other bytes.
        """
        name = name or os.path.basename(path)
        size = os.path.getsize(path) if size is None else size
        digest = hashlib.md5(usedforsecurity=False)
        stream = opener or (lambda: open(path, "rb"))  # noqa: SIM115 (closed by _chunks)
        body = self._json(
            "PUT",
            f"{bucket_url.rstrip('/')}/{quote(name, safe='')}",
            f"uploading {name}",
            content=self._chunks(stream, digest, progress),
            headers={"Content-Length": str(size), "Content-Type": "application/octet-stream"},
        )
        local = Upload(name=name, size=size, md5=digest.hexdigest())
        remote = RemoteFile.from_json(body or {})
        if (remote.md5, remote.size) != (local.md5, local.size):
            raise ChecksumMismatch(
                f"{name} arrived damaged: sent {local.size} bytes with md5 {local.md5}, "
                f"Zenodo stored {remote.size} bytes with md5 {remote.md5 or '(none)'}"
            )
        return local

    def _chunks(self, opener: Opener, digest: Any, progress: Progress | None) -> Iterator[bytes]:
        with opener() as stream:
            while chunk := stream.read(self.chunk_size):
                digest.update(chunk)
                if progress is not None:
                    progress(len(chunk))
                yield chunk

    # Records -----------------------------------------------------------------------------

    def get_record(self, record_id: int) -> dict[str, Any]:
        """Read a published record through the records API."""
        return dict(self._json("GET", f"records/{record_id}", f"reading record {record_id}"))

    # Plumbing: the one boundary for httpx errors and unsuccessful answers -----------------

    def _json(self, method: str, url: str, what: str, **kwargs: Any) -> Any:
        response = self._send(method, url, what, **kwargs)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise Transient(f"Zenodo's answer to {what} was not JSON") from None

    def _send(self, method: str, url: str, what: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            raise Transient(f"Zenodo did not answer in time while {what}") from exc
        except httpx.TransportError as exc:
            raise Transient(
                f"connection to Zenodo failed while {what}: {type(exc).__name__}"
            ) from exc
        except httpx.InvalidURL as exc:
            raise Rejected(f"invalid URL while {what}: {exc}") from exc
        if response.is_success:
            return response
        raise error_for(
            response.status_code, what=what, headers=response.headers, body=response.content
        )
