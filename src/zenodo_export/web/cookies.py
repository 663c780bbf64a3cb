"""Session cookies marked ``Secure`` whenever the request came over HTTPS.

Behind a reverse proxy that terminates TLS, ``serve`` listens on loopback in plain HTTP; uvicorn
takes the original scheme from the proxy's ``X-Forwarded-Proto`` (``FORWARDED_ALLOW_IPS``), and
this marks every cookie of such a request ``Secure``, so the browser never sends it over HTTP.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class SecureOverHttps:
    """Pure ASGI middleware adding ``; Secure`` to the cookies of HTTPS requests."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("scheme") != "https":
            await self.app(scope, receive, send)
            return

        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    (name, value + b"; secure")
                    if name.lower() == b"set-cookie" and b"secure" not in value.lower()
                    else (name, value)
                    for name, value in message.get("headers", [])
                ]
            await send(message)

        await self.app(scope, receive, secured)
