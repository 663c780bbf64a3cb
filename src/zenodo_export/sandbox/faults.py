"""Fault injection: rules that make matching requests fail, stall, drop or lose their answer.

A rule matches a method (or ``*``) and a regular expression searched in the path; it applies
to the next ``times`` matching requests (``None``: forever), then it is used up. Actions:

* ``fail``: answer ``status`` at once, nginx's HTML for 502/503/504, Zenodo JSON otherwise;
* ``latency``: sleep ``seconds``, then handle the request normally;
* ``drop``: let the handler read ``after_bytes`` of the body, then reset the connection;
* ``lost_response``: handle the request for real, then answer 504 (the work is done).

Command-line syntax: ``METHOD PATH_REGEX ACTION [key=value ...]``, e.g.
``POST ^/api/deposit/depositions/\\d+/actions/publish$ lost_response times=1``.

Path regexes run on every request, so a rule is checked when it is added (``check_pattern``):
at most ``MAX_FAULT_PATTERN_CHARS`` characters and no quantifier or alternation inside a
quantified group (``(a+)+``, ``(a|aa)*``), the shapes of catastrophic backtracking.
Python's ``re`` has no match timeout; refusing those shapes when a rule is added keeps every
match cheap on a request path (which the server caps in length anyway).
"""

from __future__ import annotations

import asyncio
import importlib
import json
import re
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, get_args

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from zenodo_export.errors import ConfigError
from zenodo_export.sandbox import wire
from zenodo_export.sandbox.defaults import MAX_FAULT_PATTERN_CHARS
from zenodo_export.sandbox.errors import GATEWAY_TITLES, error_body, gateway_html

_PARSER: Any = importlib.import_module("re._parser")  # the stdlib's regex parser (3.11+)

_REPEATS = frozenset({"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"})


def _children(op: str, av: Any) -> list[Any]:
    """Return the sub-patterns of one parsed regex node."""
    if op in _REPEATS:
        return [av[2]]
    if op == "SUBPATTERN":
        return [av[3]]
    if op == "BRANCH":
        return list(av[1])
    if op in ("ASSERT", "ASSERT_NOT"):
        return [av[1]]
    if op == "ATOMIC_GROUP":
        return [av]
    if op == "GROUPREF_EXISTS":
        return [branch for branch in av[1:] if branch is not None]
    return []


def _nested_repeat(items: Any, inside_repeat: bool) -> bool:
    """Say whether a repeat or an alternation sits inside a repeat in parsed ``items``."""
    for op_code, av in items:
        op = getattr(op_code, "name", str(op_code))
        repeats = op in _REPEATS and (av[1] is _PARSER.MAXREPEAT or av[1] > 1)
        if inside_repeat and (repeats or op == "BRANCH"):
            return True
        if any(_nested_repeat(child, inside_repeat or repeats) for child in _children(op, av)):
            return True
    return False


def check_pattern(pattern: str) -> None:
    """Raise ``ValueError`` for a path regex that is too long, invalid or may backtrack badly."""
    if len(pattern) > MAX_FAULT_PATTERN_CHARS:
        raise ValueError(f"path regex is {len(pattern)} characters, over {MAX_FAULT_PATTERN_CHARS}")
    try:
        parsed = _PARSER.parse(pattern)
    except re.error as exc:
        raise ValueError(f"bad path regex {pattern!r}: {exc}") from None
    if _nested_repeat(parsed, inside_repeat=False):
        raise ValueError(
            f"path regex {pattern!r} has a quantifier or | inside a quantified group "
            "(catastrophic backtracking); write it without nesting"
        )


Action = Literal["fail", "latency", "drop", "lost_response"]
ADMIN_PREFIX = "/_sandbox/"
"""Paths under this prefix are never faulted, rate limited or authenticated."""


@dataclass
class FaultRule:
    """One fault: which requests it hits, how many times, and what it does."""

    action: Action
    path: str = ".*"
    method: str = "*"
    times: int | None = 1
    status: int = 504
    seconds: float = 0.0
    after_bytes: int = 0
    retry_after: int | None = None
    id: int = 0
    hits: int = 0
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.action not in get_args(Action):
            raise ValueError(
                f"unknown action {self.action!r} (known: {', '.join(get_args(Action))})"
            )
        self.method = self.method.upper()
        if not isinstance(self.path, str):
            raise ValueError("path must be a string")
        check_pattern(self.path)
        try:
            self.pattern = re.compile(self.path)
        except re.error as exc:
            raise ValueError(f"bad path regex {self.path!r}: {exc}") from None
        if self.times is not None and self.times < 1:
            raise ValueError("times must be at least 1 (or null/forever)")
        if not 100 <= self.status <= 599:
            raise ValueError(f"bad status {self.status}")
        if self.seconds < 0 or self.after_bytes < 0:
            raise ValueError("seconds and after_bytes must not be negative")

    def matches(self, method: str, path: str) -> bool:
        """Say whether this rule hits a request (ignoring whether it is used up)."""
        return self.method in ("*", method.upper()) and self.pattern.search(path) is not None

    @property
    def used_up(self) -> bool:
        """Say whether the rule has hit its ``times`` requests."""
        return self.times is not None and self.hits >= self.times

    def to_json(self) -> dict[str, Any]:
        """Return the rule as the admin endpoint shows it."""
        data = asdict(self)
        data.pop("pattern")
        return data


RULE_FIELDS = (
    "action",
    "path",
    "method",
    "times",
    "status",
    "seconds",
    "after_bytes",
    "retry_after",
)


def rule_from_json(data: Mapping[str, Any]) -> FaultRule:
    """Build a rule from the admin endpoint's JSON; ``ValueError`` names a bad field."""
    unknown = sorted(set(data) - set(RULE_FIELDS) - {"id", "hits"})
    if unknown:
        raise ValueError(f"unknown field {unknown[0]!r} (known: {', '.join(RULE_FIELDS)})")
    if "action" not in data:
        raise ValueError("missing field 'action'")
    values = {k: data[k] for k in RULE_FIELDS if k in data}
    if values.get("times") == "forever":
        values["times"] = None
    try:
        return FaultRule(**values)
    except TypeError as exc:
        raise ValueError(str(exc)) from None


def parse_fault(text: str) -> FaultRule:
    """Parse the flag syntax ``METHOD PATH_REGEX ACTION [key=value ...]``."""
    parts = text.split()
    if len(parts) < 3:
        raise ConfigError(f"sandbox fault {text!r}: expected METHOD PATH_REGEX ACTION [key=value]")
    data: dict[str, Any] = {"method": parts[0], "path": parts[1], "action": parts[2]}
    for item in parts[3:]:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"sandbox fault {text!r}: {item!r} is not key=value")
        data[key] = _option_value(key, value)
    try:
        return rule_from_json(data)
    except ValueError as exc:
        raise ConfigError(f"sandbox fault {text!r}: {exc}") from None


def _option_value(key: str, value: str) -> Any:
    if key == "times" and value in ("forever", "*"):
        return None
    try:
        return float(value) if key == "seconds" else int(value)
    except ValueError:
        raise ConfigError(f"sandbox fault option {key}={value!r}: not a number") from None


class FaultBook:
    """The active rules; the first matching rule that is not used up applies."""

    def __init__(self, rules: tuple[FaultRule, ...] = ()) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._next_id = 1
        for rule in rules:
            self.add(FaultRule(**{k: getattr(rule, k) for k in RULE_FIELDS}))

    def add(self, rule: FaultRule) -> FaultRule:
        """Add a rule and give it an id."""
        with self._lock:
            rule.id, self._next_id = self._next_id, self._next_id + 1
            self._rules.append(rule)
        return rule

    def remove(self, rule_id: int | None = None) -> int:
        """Remove one rule, or all of them; return how many went."""
        with self._lock:
            before = len(self._rules)
            self._rules = [r for r in self._rules if rule_id is not None and r.id != rule_id]
            return before - len(self._rules)

    def rules(self) -> list[FaultRule]:
        """Return the rules, used-up ones included (they show their hits)."""
        with self._lock:
            return list(self._rules)

    def take(self, method: str, path: str) -> FaultRule | None:
        """Return the rule that applies to a request and count the hit."""
        with self._lock:
            for rule in self._rules:
                if not rule.used_up and rule.matches(method, path):
                    rule.hits += 1
                    return rule
        return None


class FaultMiddleware:
    """Apply the fault book to every request outside the admin endpoints."""

    def __init__(self, app: ASGIApp, book: FaultBook) -> None:
        self.app = app
        self.book = book

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wire.remember_receive(scope, receive)
        rule = None
        if not scope["path"].startswith(ADMIN_PREFIX):
            rule = self.book.take(scope["method"], scope["path"])
        if rule is None:
            await self.app(scope, receive, send)
        elif rule.action == "latency":
            await asyncio.sleep(rule.seconds)
            await self.app(scope, receive, send)
        elif rule.action == "fail":
            await send_fault(scope, send, rule.status, retry_after=rule.retry_after)
        elif rule.action == "drop" and not wire.has_body(scope):
            wire.abort_connection(scope)
        elif rule.action == "drop":
            await self.app(scope, _dropping_receive(scope, receive, rule.after_bytes), send)
        else:
            await self.app(scope, receive, _discard)
            await send_fault(scope, send, 504)


async def _discard(message: Message) -> None:
    """Swallow the real answer of a ``lost_response`` request."""


def _dropping_receive(scope: Scope, receive: Receive, after_bytes: int) -> Receive:
    """Wrap ``receive`` to reset the connection once ``after_bytes`` of the body arrived.

    The message that reaches ``after_bytes`` (or ends the body) is never handed on, so the
    handler sees a client that went away and never completes the request.
    """
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        seen += len(message.get("body", b""))
        if message["type"] == "http.request" and (
            seen >= after_bytes or not message.get("more_body", False)
        ):
            wire.abort_connection(scope)
            return {"type": "http.disconnect"}
        return message

    return wrapped


async def send_fault(
    scope: Scope, send: Send, status: int, *, retry_after: int | None = None
) -> None:
    """Answer ``status`` the way the layer that produces it would: nginx HTML or Zenodo JSON."""
    headers = [(b"retry-after", str(retry_after).encode())] if retry_after is not None else []
    if status in GATEWAY_TITLES:
        html = gateway_html(status).encode()
        await wire.respond(scope, send, status, html, content_type=b"text/html", headers=headers)
    else:
        await wire.respond(
            scope, send, status, json.dumps(error_body(status)).encode(), headers=headers
        )
