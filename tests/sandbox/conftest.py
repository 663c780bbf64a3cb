"""Fixtures of the sandbox conformance suite (the sandbox itself comes from tests/fixtures)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.sandbox.helpers import client
from zenodo_export.sandbox import RunningSandbox


@pytest.fixture
def api(sandbox: RunningSandbox) -> Iterator[httpx.Client]:
    """Return an httpx client for the ``sandbox`` API, authenticated with its token."""
    with client(sandbox) as api_client:
        yield api_client
