"""Per-token rate limits in fixed windows, with Zenodo's headers on every API answer.

Each limit (``100/minute``, ``5000/hour``) counts requests per key (the token, or the
client address without one) in fixed windows, like Flask-Limiter's default strategy. A
request over any limit gets 429 with ``Retry-After`` and a body naming the limit
(``100 per 1 minute``); every ``/api/`` answer carries ``X-RateLimit-Limit/Remaining/Reset``
for the limit closest to running out.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from zenodo_export.sandbox import wire
from zenodo_export.sandbox.auth import token_from_scope
from zenodo_export.sandbox.config import RateLimit
from zenodo_export.sandbox.errors import error_body


@dataclass(frozen=True)
class Decision:
    """Whether a request may pass, and what the headers say."""

    allowed: bool
    limit: RateLimit
    remaining: int
    reset: float

    def headers(self, now: float) -> list[tuple[bytes, bytes]]:
        """Return the rate-limit headers, with ``Retry-After`` when refused."""
        headers = [
            (b"x-ratelimit-limit", str(self.limit.amount).encode()),
            (b"x-ratelimit-remaining", str(self.remaining).encode()),
            (b"x-ratelimit-reset", str(math.ceil(self.reset)).encode()),
        ]
        if not self.allowed:
            headers.append((b"retry-after", str(max(1, math.ceil(self.reset - now))).encode()))
        return headers


def decide(
    counts: dict[int, tuple[float, int]], limits: tuple[RateLimit, ...], now: float
) -> tuple[Decision, dict[int, tuple[float, int]]]:
    """Decide one request against ``limits`` given the counts per window length.

    ``counts`` maps a window length to ``(window start, requests in it)``. Returns the
    decision and the new counts (a refused request is not counted).
    """
    current: dict[int, tuple[float, int]] = {}
    for limit in limits:
        start = float(math.floor(now / limit.seconds) * limit.seconds)
        old_start, used = counts.get(limit.seconds, (start, 0))
        current[limit.seconds] = (start, used if old_start == start else 0)
    full = [lim for lim in limits if current[lim.seconds][1] >= lim.amount]
    if full:
        worst = max(full, key=lambda lim: current[lim.seconds][0] + lim.seconds)
        reset = current[worst.seconds][0] + worst.seconds
        return Decision(False, worst, 0, reset), current
    current = {seconds: (start, used + 1) for seconds, (start, used) in current.items()}
    closest = min(limits, key=lambda lim: (lim.amount - current[lim.seconds][1], lim.seconds))
    window_start, used = current[closest.seconds]
    return Decision(True, closest, closest.amount - used, window_start + closest.seconds), current


class RateLimiter:
    """Counts requests per key against limits that may change while running."""

    def __init__(
        self, limits: Callable[[], tuple[RateLimit, ...]], clock: Callable[[], float] = time.time
    ) -> None:
        self._limits = limits
        self._clock = clock
        self._counts: dict[str, dict[int, tuple[float, int]]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> tuple[Decision, float] | None:
        """Count a request of ``key``; None when no limit is configured."""
        limits = self._limits()
        if not limits:
            return None
        now = self._clock()
        with self._lock:
            decision, self._counts[key] = decide(self._counts.get(key, {}), limits, now)
        return decision, now

    def reset(self) -> None:
        """Forget every count (after the limits change)."""
        with self._lock:
            self._counts.clear()


class RateLimitMiddleware:
    """Apply the limiter to ``/api/`` requests and add its headers to their answers."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        key = token_from_scope(scope) or f"address:{client[0] if client else '?'}"
        result = self.limiter.hit(key)
        if result is None:
            await self.app(scope, receive, send)
            return
        decision, now = result
        headers = decision.headers(now)
        if not decision.allowed:
            body = json.dumps(error_body(429, decision.limit.description)).encode()
            await wire.respond(scope, send, 429, body, headers=headers)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *headers]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
