"""Serve the web application with uvicorn on a socket bound first (so port 0 is known)."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable

import uvicorn

from zenodo_export.errors import ConfigError
from zenodo_export.settings import Settings
from zenodo_export.store import Store
from zenodo_export.store.tokens import any_token
from zenodo_export.web.app import create_app


def is_loopback(host: str) -> bool:
    """Say whether ``host`` is a loopback address or ``localhost``."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def exposure_problem(store: Store, host: str) -> str | None:
    """Say why ``serve`` must not listen on ``host``: public without any token to guard it."""
    if is_loopback(host):
        return None
    with store.transaction() as session:
        if any_token(session):
            return None
    return (
        f"serve refuses to listen on {host}: no API token exists, so nobody could sign in "
        "and the pages would be unguarded; make one first "
        "(`zenodo-export token create NAME --role admin`)"
    )


def bind(host: str, port: int) -> socket.socket:
    """Return a listening socket on ``host:port``; ``ConfigError`` when that is not possible."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except (OSError, OverflowError) as exc:
        sock.close()
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ConfigError(f"serve cannot listen on {host}:{port}: {reason}") from None
    sock.listen(2048)
    return sock


def serve(
    settings: Settings,
    store: Store,
    host: str,
    port: int,
    *,
    announce: Callable[[str], None],
) -> None:
    """Serve until interrupted (SIGINT or SIGTERM: requests in flight finish)."""
    problem = exposure_problem(store, host)
    if problem is not None:
        raise ConfigError(problem)
    sock = bind(host, port)
    bound_host, bound_port = sock.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    app = create_app(settings, store, secure_cookies=not is_loopback(host))
    config = uvicorn.Config(
        app,
        proxy_headers=True,  # behind a reverse proxy: FORWARDED_ALLOW_IPS names it
        server_header=False,
        log_config=None,
        timeout_graceful_shutdown=10,
    )
    announce(f"http://{shown}:{bound_port}")
    uvicorn.Server(config).run(sockets=[sock])
