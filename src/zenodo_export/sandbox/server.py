"""Serve the sandbox with uvicorn: in a background thread (tests, demo) or blocking (the CLI).

The listening socket is bound before uvicorn starts, so the base URL is known at once, even
for port 0 (any free port).
"""

from __future__ import annotations

import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any

import httpx
import uvicorn

from zenodo_export.errors import ConfigError
from zenodo_export.sandbox.app import create_app
from zenodo_export.sandbox.config import SandboxConfig
from zenodo_export.sandbox.neighbours import is_loopback

logger = logging.getLogger(__name__)

START_TIMEOUT = 10.0
"""Seconds ``run_in_thread`` waits for uvicorn to accept connections."""


ACCESS_LOGGER = "uvicorn.access"
"""The logger uvicorn writes its access log to."""

_SECRET_QUERY = re.compile(r"(?i)((?:^|[?&;])access_token=)[^&;#\s]*")


def redact(text: str) -> str:
    """Return ``text`` with every ``access_token`` query value replaced by ``***``."""
    return _SECRET_QUERY.sub(r"\1***", text)


class RedactingFilter(logging.Filter):
    """Hide ``access_token`` query values in access log records (the path is an argument)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def _redact_access_log() -> None:
    access = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, RedactingFilter) for f in access.filters):
        access.addFilter(RedactingFilter())


def exposure_warning(host: str) -> str | None:
    """Return a one-line warning when ``host`` is reachable from other machines, else None."""
    if is_loopback(host):
        return None
    return (
        f"warning: the sandbox listens on {host}, not only on loopback: other machines can "
        "reach it, its tokens and (without --admin-token) its admin endpoints"
    )


def bind(host: str, port: int) -> socket.socket:
    """Return a listening socket on ``host:port``; ``ConfigError`` when that is not possible."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio turns Nagle off only for sockets that name it.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"sandbox cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(128)
    return sock


def base_url_of(sock: socket.socket) -> str:
    """Return ``http://host:port`` of a bound socket."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _server(config: SandboxConfig, *, log_config: dict[str, Any] | None) -> uvicorn.Server:
    uvicorn_config = uvicorn.Config(
        create_app(config),
        lifespan="on",
        access_log=config.access_log,
        log_config=log_config,
        timeout_graceful_shutdown=2,
    )
    _redact_access_log()  # after the Config, which may configure logging
    return uvicorn.Server(uvicorn_config)


class RunningSandbox:
    """A sandbox serving in a background thread; use as a context manager or call ``stop``."""

    def __init__(self, config: SandboxConfig, host: str = "127.0.0.1", port: int = 0) -> None:
        self.config = config
        self._socket = bind(host, port)
        warning = exposure_warning(host)
        if warning is not None:
            logger.warning(warning)
        self.base_url = base_url_of(self._socket)
        self._server = _server(config, log_config=None)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True,
            name=f"zenodo-sandbox {self.base_url}",
        )  # fmt: skip

    @property
    def api_url(self) -> str:
        """Return the API base URL with its trailing slash (what ``ZENODO_URL`` takes)."""
        return f"{self.base_url}/api/"

    @property
    def admin_url(self) -> str:
        """Return the admin endpoints' base URL with its trailing slash."""
        return f"{self.base_url}/_sandbox/"

    @property
    def tokens(self) -> list[str]:
        """Return the tokens the sandbox accepts, first one the default."""
        return [spec.token for spec in self.config.tokens]

    @property
    def token(self) -> str:
        """Return the first token."""
        return self.tokens[0]

    def start(self) -> RunningSandbox:
        """Start serving and wait until connections are accepted (once; later calls do nothing)."""
        if self._thread.ident is not None:
            return self
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"sandbox at {self.base_url} did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving, wait for the thread, release the socket (idempotent)."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self._socket.close()

    def admin(self, method: str, path: str, json: Any = None) -> Any:
        """Call an admin endpoint (``self.admin("POST", "faults", {...})``) and return its JSON."""
        token = self.config.admin_token
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        response = httpx.request(
            method, self.admin_url + path.lstrip("/"), json=json, headers=headers, timeout=10
        )
        response.raise_for_status()
        return response.json() if response.content else None

    def add_fault(self, rule: Mapping[str, Any]) -> dict[str, Any]:
        """Add a fault rule (see ``faults``) and return it with its id."""
        added: dict[str, Any] = self.admin("POST", "faults", dict(rule))["faults"][0]
        return added

    def settings(self, **changes: Any) -> dict[str, Any]:
        """Change runtime settings (``list_lag_seconds=2``, ``rate_limits=["5/second"]``)."""
        result: dict[str, Any] = self.admin("POST", "settings", changes)
        return result

    def __enter__(self) -> RunningSandbox:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def run_in_thread(config: SandboxConfig, host: str = "127.0.0.1", port: int = 0) -> RunningSandbox:
    """Start a sandbox in a background thread on a free port (or ``port``) and return it."""
    return RunningSandbox(config, host, port).start()


def serve(
    config: SandboxConfig,
    host: str,
    port: int,
    *,
    announce: Callable[[str], None] | None = None,
    warn: Callable[[str], None] | None = None,
) -> None:
    """Serve until interrupted; ``announce`` gets the base URL once the socket is bound.

    ``warn`` gets ``exposure_warning``'s line when the address is not loopback.
    """
    sock = bind(host, port)
    warning = exposure_warning(host)
    if warning is not None:
        (warn or logger.warning)(warning)
    try:
        if announce is not None:
            announce(base_url_of(sock))
        _server(config, log_config=uvicorn.config.LOGGING_CONFIG).run(sockets=[sock])
    finally:
        sock.close()
