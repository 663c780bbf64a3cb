"""Building Zenodo clients from the settings, paced through the store when one is given."""

from __future__ import annotations

from collections.abc import Callable

from zenodo_export.settings import Settings
from zenodo_export.store import Store, shared_pacer
from zenodo_export.zenodo.client import ZenodoClient

ClientFactory = Callable[[], ZenodoClient]
"""Builds a Zenodo client (one per thread, so that each keeps its own connections)."""


def client_factory(settings: Settings, *, store: Store | None = None) -> ClientFactory:
    """Return a factory of clients for the configured Zenodo, paced through ``store`` if given.

    Paced clients share ``ZENODO_EXPORT_RATE_LIMITS`` with every worker of the same token.
    """
    token = settings.zenodo_token.get_secret_value() if settings.zenodo_token else None
    pacer = None
    if store is not None and token:
        pacer = shared_pacer(
            store, zenodo_url=settings.zenodo_url, token=token, budgets=settings.rate_limits
        )

    def build() -> ZenodoClient:
        return ZenodoClient(
            settings.zenodo_url,
            token,
            timeout=settings.http_timeout,
            chunk_size=settings.upload_chunk_size,
            pacer=pacer.wait_for_turn if pacer else None,
            allow_insecure_http=settings.allow_insecure_http,
        )

    return build
