"""The sandbox's configuration and the small syntaxes of its command-line flags.

Flags are parsed here, by pure functions that raise ``ConfigError`` with one line naming the
bad value, so that the CLI, the test fixtures and the admin endpoint share one parser.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from zenodo_export import defaults as project_defaults
from zenodo_export.errors import ConfigError
from zenodo_export.rates import parse_rate
from zenodo_export.sandbox import defaults
from zenodo_export.sandbox.faults import FaultRule, parse_fault, rule_from_json

SIZE_UNITS = {
    "": 1,
    "B": 1,
    "K": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "KIB": 2**10,
    "MIB": 2**20,
    "GIB": 2**30,
    "TIB": 2**40,
}
"""Size suffixes: decimal like Zenodo's limits (``50G``), binary with ``iB`` (``2GiB``)."""


SIZE_SETTINGS = (
    "max_files", "max_record_bytes", "max_file_bytes", "multipart_max_bytes", "max_json_bytes",
)  # fmt: skip
"""Settings that are counts or sizes (flag syntax ``10M`` accepted), each at least 1."""


@dataclass(frozen=True)
class TokenSpec:
    """A token the sandbox accepts and the scopes it carries."""

    token: str
    scopes: frozenset[str] = frozenset(defaults.SCOPES)

    def describe(self) -> str:
        """Return ``TOKEN (scopes a b)`` for the start-up banner."""
        return f"{self.token} (scopes: {' '.join(sorted(self.scopes))})"


@dataclass(frozen=True)
class RateLimit:
    """At most ``amount`` requests per ``seconds`` window, per token."""

    amount: int
    seconds: int
    period: str

    @property
    def description(self) -> str:
        """Return the limit as Flask-Limiter words it in a 429 body: ``100 per 1 minute``."""
        return f"{self.amount} per 1 {self.period}"

    def __str__(self) -> str:
        return f"{self.amount}/{self.period}"


@dataclass(frozen=True)
class SandboxConfig:
    """Everything a sandbox is started with; runtime changes make a modified copy."""

    data_dir: Path
    tokens: tuple[TokenSpec, ...] = (TokenSpec(project_defaults.SANDBOX_TOKEN),)
    rate_limits: tuple[RateLimit, ...] = field(
        default_factory=lambda: tuple(parse_rate_limit(r) for r in defaults.RATE_LIMITS)
    )
    max_files: int = defaults.MAX_FILES
    max_record_bytes: int = defaults.MAX_RECORD_BYTES
    max_file_bytes: int = defaults.MAX_FILE_BYTES
    multipart_max_bytes: int = defaults.MULTIPART_MAX_BYTES
    max_json_bytes: int = defaults.MAX_JSON_BYTES
    list_lag_seconds: float = defaults.LIST_LAG_SECONDS
    body_idle_timeout: float = defaults.BODY_IDLE_TIMEOUT
    bucket_delete_500: bool = True
    faults: tuple[FaultRule, ...] = ()
    access_log: bool = False
    admin_token: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.tokens:
            raise ConfigError("sandbox: at least one token is needed")
        for name in SIZE_SETTINGS:
            if getattr(self, name) < 1:
                raise ConfigError(f"sandbox {name}: must be at least 1, got {getattr(self, name)}")
        if self.admin_token is not None and (
            not self.admin_token or any(c.isspace() for c in self.admin_token)
        ):
            raise ConfigError("sandbox admin token: must be non-empty, without spaces")
        for name in ("list_lag_seconds", "body_idle_timeout"):
            if getattr(self, name) < 0:
                raise ConfigError(f"sandbox {name}: must not be negative")

    @property
    def database_path(self) -> Path:
        """Return the SQLite file holding the sandbox's state."""
        return self.data_dir / defaults.DATABASE_FILE

    def token_spec(self, token: str) -> TokenSpec | None:
        """Return the spec of ``token``, or None when the sandbox does not accept it."""
        return next((spec for spec in self.tokens if spec.token == token), None)

    def with_changes(self, changes: Mapping[str, Any]) -> SandboxConfig:
        """Return a copy with ``changes`` applied (flag syntax parsed as in ``build_config``)."""
        known = {f.name for f in fields(self)} - {"data_dir"}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ConfigError(f"sandbox setting {unknown[0]}: unknown setting")
        return replace(self, **_coerce(dict(changes)))


def build_config(data_dir: Path | str, **options: Any) -> SandboxConfig:
    """Build a ``SandboxConfig``, accepting flag syntax for tokens, rate limits, sizes and faults.

    ``build_config(tmp, tokens=["a", "b:deposit:write"], rate_limits=["3/second"],
    max_file_bytes="1K", faults=["PUT ^/api/files/ drop after_bytes=10"])``.
    """
    folder = Path(data_dir)
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"sandbox data dir {folder} is not a folder: name a folder (or none)")
    return SandboxConfig(data_dir=folder, **_coerce(options))


def _coerce(options: dict[str, Any]) -> dict[str, Any]:
    """Turn flag-style values of ``options`` into the types ``SandboxConfig`` holds."""
    if "tokens" in options:
        options["tokens"] = tuple(
            t if isinstance(t, TokenSpec) else parse_token(t) for t in options["tokens"]
        )
    if "rate_limits" in options:
        options["rate_limits"] = tuple(
            r if isinstance(r, RateLimit) else parse_rate_limit(r)
            for r in options["rate_limits"]
            if r != "off"  # ``--rate-limit off``: no limits at all
        )
    if "faults" in options:
        options["faults"] = tuple(_fault(f) for f in options["faults"])
    for name in SIZE_SETTINGS:
        if name in options and isinstance(options[name], str):
            options[name] = parse_size(options[name])
    return options


def _fault(value: str | Mapping[str, Any] | FaultRule) -> FaultRule:
    if isinstance(value, FaultRule):
        return value
    if isinstance(value, str):
        return parse_fault(value)
    try:
        return rule_from_json(value)
    except ValueError as exc:
        raise ConfigError(f"sandbox fault: {exc}") from None


def parse_token(text: str) -> TokenSpec:
    """Parse ``TOKEN`` or ``TOKEN:scope[,scope]`` (``mytoken:deposit:write``)."""
    token, sep, rest = text.partition(":")
    if not token or any(c.isspace() for c in token):
        raise ConfigError(f"sandbox token {text!r}: expected TOKEN or TOKEN:SCOPE[,SCOPE]")
    if not sep:
        return TokenSpec(token)
    scopes = frozenset(s.strip() for s in rest.split(",") if s.strip())
    unknown = sorted(scopes - defaults.KNOWN_SCOPES)
    if unknown or not scopes:
        known = ", ".join(sorted(defaults.KNOWN_SCOPES))
        raise ConfigError(f"sandbox token {token!r}: unknown scope {rest!r} (known: {known})")
    return TokenSpec(token, scopes)


def parse_rate_limit(text: str) -> RateLimit:
    """Parse ``100/minute`` (or ``100 per minute``; periods second, minute, hour, day)."""
    try:
        rate = parse_rate(text)
    except ValueError:
        raise ConfigError(
            f"sandbox rate limit {text!r}: expected N/second|minute|hour|day"
        ) from None
    return RateLimit(rate.amount, rate.seconds, rate.period)


def parse_size(text: str) -> int:
    """Parse a byte count: ``1000``, ``100M`` (decimal) or ``2GiB`` (binary)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?I?B?)\s*", text.upper())
    if not match or match[2] not in SIZE_UNITS:
        raise ConfigError(f"sandbox size {text!r}: expected bytes like 1000, 100M or 2GiB")
    return int(float(match[1]) * SIZE_UNITS[match[2]])
