"""The one typed ``Settings`` object, read from the environment at the edges.

Nothing here connects to anything: the CLI, the worker and the web app build a ``Settings``
and pass it down. Lagotto's variable names (``ZENODO_KEY``, ``CREATOR``, ``GITHUB_URL``,
``SITENAMELONG``, ``SERVERNAME``, ``APPLICATION``) are read as they were.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from zenodo_export import defaults
from zenodo_export.errors import ConfigError
from zenodo_export.filestore.location import location_problem
from zenodo_export.redact import MASK, mask_url
from zenodo_export.validation import first_error
from zenodo_export.zenodo.client import zenodo_url_problem
from zenodo_export.zenodo.pacing import Budget, parse_budgets

VersioningMode = Literal["native", "related-identifier", "none"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
LogFormat = Literal["text", "json"]


class Settings(BaseSettings):
    """Everything zenodo-export can be told from outside, with its default."""

    model_config = SettingsConfigDict(
        env_prefix="ZENODO_EXPORT_", extra="ignore", populate_by_name=True, allow_inf_nan=False
    )

    data_dir: Path = Field(default=defaults.DATA_DIR)
    # The files store (filestore/location.py): a path or an fsspec URL; default <data dir>/store.
    storage: str | None = None
    storage_retention_days: float = Field(default=defaults.STORAGE_RETENTION_DAYS, ge=0)
    config: Path | None = None
    schedule_tick_seconds: float = Field(default=defaults.SCHEDULE_TICK_SECONDS, ge=0)
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "ZENODO_EXPORT_DATABASE_URL")
    )
    # Before zenodo_url: its validator reads this one.
    allow_insecure_http: bool = False
    zenodo_url: str = Field(
        default=defaults.ZENODO_URL, validation_alias=AliasChoices("ZENODO_URL")
    )
    zenodo_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("ZENODO_TOKEN", "ZENODO_KEY")
    )
    http_timeout: float = Field(default=defaults.HTTP_TIMEOUT, gt=0)
    upload_chunk_size: int = Field(default=defaults.UPLOAD_CHUNK_SIZE, gt=0)
    max_attempts: int = Field(default=defaults.MAX_ATTEMPTS, ge=1)
    retry_base_seconds: float = Field(default=defaults.RETRY_BASE_SECONDS, ge=0)
    retry_delay_scale: float = Field(default=defaults.RETRY_DELAY_SCALE, ge=0)
    lease_seconds: float = Field(default=defaults.LEASE_SECONDS, gt=0)
    poll_interval: float = Field(default=defaults.POLL_INTERVAL, gt=0)
    settle_seconds: float = Field(default=defaults.SETTLE_SECONDS, ge=0)
    defer_seconds: float = Field(default=defaults.DEFER_SECONDS, ge=0)
    janitor_grace_seconds: float = Field(default=defaults.JANITOR_GRACE_SECONDS, ge=0)
    janitor_interval_seconds: float = Field(default=defaults.JANITOR_INTERVAL_SECONDS, gt=0)
    rate_limits: Annotated[tuple[Budget, ...], NoDecode] = Field(
        default=defaults.RATE_LIMITS, validate_default=True
    )
    versioning: VersioningMode = "native"
    license: str = defaults.LICENSE
    creator: str | None = Field(default=None, validation_alias=AliasChoices("CREATOR"))
    github_url: str | None = Field(default=None, validation_alias=AliasChoices("GITHUB_URL"))
    sitenamelong: str | None = Field(default=None, validation_alias=AliasChoices("SITENAMELONG"))
    servername: str | None = Field(default=None, validation_alias=AliasChoices("SERVERNAME"))
    application: str | None = Field(default=None, validation_alias=AliasChoices("APPLICATION"))
    log_level: LogLevel = defaults.LOG_LEVEL
    log_format: LogFormat = defaults.LOG_FORMAT
    crawl_max_page_bytes: int = Field(default=defaults.CRAWL_MAX_PAGE_BYTES, gt=0)
    crawl_page_seconds: float = Field(default=defaults.CRAWL_PAGE_SECONDS, gt=0)
    crawl_max_pages: int = Field(default=defaults.CRAWL_MAX_PAGES, ge=1)
    crawl_max_snapshot_bytes: int = Field(default=defaults.CRAWL_MAX_SNAPSHOT_BYTES, gt=0)
    crawl_snapshot_seconds: float = Field(default=defaults.CRAWL_SNAPSHOT_SECONDS, gt=0)
    crawl_max_concurrency: int = Field(default=defaults.CRAWL_MAX_CONCURRENCY, ge=1)
    crawl_max_redirects: int = Field(default=defaults.CRAWL_MAX_REDIRECTS, ge=0)
    web_session_hours: float = Field(default=defaults.WEB_SESSION_HOURS, gt=0, le=24 * 30)
    web_upload_max_bytes: int = Field(default=defaults.MAX_RECORD_BYTES, gt=0)
    web_files_dirs: Annotated[tuple[Path, ...], NoDecode] = ()

    @field_validator("rate_limits", mode="before")
    @classmethod
    def _parse_rate_limits(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        try:
            return parse_budgets(value)
        except ValueError as exc:
            raise PydanticCustomError("rate_limits", str(exc)) from None

    @field_validator("web_files_dirs", mode="before")
    @classmethod
    def _split_dirs(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(Path(part) for part in value.split(os.pathsep) if part.strip())
        return value

    @field_validator("web_files_dirs")
    @classmethod
    def _absolute_dirs(cls, value: tuple[Path, ...]) -> tuple[Path, ...]:
        for folder in value:
            if not folder.is_absolute():
                raise PydanticCustomError(
                    "web_files_dirs", f"{str(folder)[:200]!r} must be absolute"
                )
        return tuple(folder.resolve() for folder in value)

    @field_validator("zenodo_url")
    @classmethod
    def _safe_zenodo_url(cls, value: str, info: ValidationInfo) -> str:
        allow = bool(info.data.get("allow_insecure_http", False))
        problem = zenodo_url_problem(value, allow_insecure_http=allow)
        if problem is not None:
            # A custom error: pydantic's own would quote the value, secret and all.
            raise PydanticCustomError("zenodo_url", problem)
        return value.strip()

    @field_validator("data_dir", mode="before")
    @classmethod
    def _named_data_dir(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            raise PydanticCustomError("data_dir", "is empty: name a folder, or unset it")
        return value

    @field_validator("database_url")
    @classmethod
    def _lasting_database(cls, value: str | None) -> str | None:
        if value is not None and in_memory(value):
            raise PydanticCustomError(
                "database_url",
                "is an in-memory database: every export would be lost when the command ends; "
                "name a file (sqlite:///path) or a server (postgresql://...)",
            )
        return value

    @field_validator("data_dir")
    @classmethod
    def _usable_data_dir(cls, value: Path) -> Path:
        problem = data_dir_problem(value.expanduser())
        if problem is not None:
            raise PydanticCustomError("data_dir", problem)
        return value

    @field_validator("storage")
    @classmethod
    def _no_secret_in_storage(cls, value: str | None) -> str | None:
        problem = location_problem(value) if value else None
        if problem is not None:
            raise PydanticCustomError("storage", problem)  # pydantic's own would quote it
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_in_capitals(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _format_in_lower_case(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        # repr() and str() show the database URL without its password (the token is a
        # SecretStr already); resolved_database_url still gives the real one to the store.
        for name, value in super().__repr_args__():
            if name == "database_url" and isinstance(value, str):
                yield name, hide_password(value)
            else:
                yield name, value

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file in the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / defaults.DATABASE_FILE}"

    @property
    def config_path(self) -> Path:
        """The reports and schedules config file, defaulting to ``config.toml`` in the data dir."""
        return self.config if self.config is not None else self.data_dir / defaults.CONFIG_FILE


def in_memory(url: str) -> bool:
    """Say whether ``url`` names a SQLite database that lives only as long as its process."""
    scheme, _, rest = url.strip().partition("://")
    if not scheme.lower().startswith("sqlite"):
        return False
    path = rest.split("?", 1)[0]
    return path in ("", "/") or ":memory:" in path or "mode=memory" in rest


def data_dir_problem(path: Path) -> str | None:
    """Return why ``path`` cannot be the data dir (not a directory, not writable), or None.

    A dir that does not exist yet is fine when its nearest existing parent is a writable dir.
    """
    existing = path.absolute()
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is not a directory"
    if not os.access(existing, os.W_OK | os.X_OK):
        verb = "is" if existing == path.absolute() else f"(where {path} would be created) is"
        return f"{existing} {verb} not writable"
    return None


_PASSWORD_PARAMETER = re.compile(r"([?&]password=)[^&#\s]*", re.IGNORECASE)


def hide_password(url: str) -> str:
    """Return a database URL with its password masked, in the userinfo or a query parameter."""
    return _PASSWORD_PARAMETER.sub(rf"\1{MASK}", mask_url(url))


def load_settings(**overrides: object) -> Settings:
    """Build ``Settings`` from the environment; a bad value becomes a one-line ``ConfigError``."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        where, message = first_error(exc)
        raise ConfigError(f"setting {env_name(where.split('.')[0])}: {message}") from None


def env_name(field: str) -> str:
    """Return the environment variable that sets a field (the first of its aliases)."""
    info = Settings.model_fields.get(field)
    alias = info.validation_alias if info is not None else None
    if isinstance(alias, AliasChoices) and isinstance(alias.choices[0], str):
        return alias.choices[0]
    if info is None and field.isupper():
        return field
    return f"ZENODO_EXPORT_{field.upper()}"
