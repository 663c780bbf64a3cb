"""``Server-Timing: app;dur=<ms>`` on every answer: how long the application took to answer.

Read by ``benchmarks/web.py`` and by a browser's developer tools; it says nothing about the
data, only the time, so every answer may carry it.
"""

from __future__ import annotations

import time

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class ServerTiming:
    """Pure ASGI middleware adding the time to the first byte of headers as Server-Timing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def timed(message: Message) -> None:
            if message["type"] == "http.response.start":
                took = (time.perf_counter() - started) * 1000
                MutableHeaders(scope=message).append("Server-Timing", f"app;dur={took:.2f}")
            await send(message)

        await self.app(scope, receive, timed)
