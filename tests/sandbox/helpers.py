"""Small helpers for the sandbox tests: an authenticated client and ready-made depositions."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import httpx

from zenodo_export.sandbox import RunningSandbox
from zenodo_export.sandbox.storage import TEMP_MARKER, TEMP_PREFIX

METADATA: dict[str, Any] = {
    "upload_type": "dataset",
    "title": "ALM monthly export",
    "description": "All events of the month.",
    "creators": [{"name": "Doe, Jane", "affiliation": "PLOS"}],
    "access_right": "open",
    "license": "cc-zero",
}
"""Metadata that is enough to publish."""


def client(sandbox: RunningSandbox, token: str | None = None) -> httpx.Client:
    """Return a client for the sandbox API that sends ``token`` (default: the first one)."""
    return httpx.Client(
        base_url=sandbox.api_url,
        headers={"Authorization": f"Bearer {token or sandbox.token}"},
        timeout=10,
    )


def create(api: httpx.Client, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    """Create a deposition and return its JSON."""
    body = {"metadata": metadata} if metadata is not None else {}
    response = api.post("deposit/depositions", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def upload(api: httpx.Client, dep: dict[str, Any], key: str, content: bytes) -> httpx.Response:
    """PUT ``content`` into the deposition's bucket as ``key``."""
    return api.put(f"{dep['links']['bucket']}/{key}", content=content)


def publishable(api: httpx.Client, content: bytes = b"1, 2, 3") -> dict[str, Any]:
    """Create a deposition with enough metadata and one file (``data.csv``) to publish."""
    dep = create(api, METADATA)
    assert upload(api, dep, "data.csv", content).status_code == 201
    return dep


def published(api: httpx.Client, content: bytes = b"1, 2, 3") -> dict[str, Any]:
    """Create and publish a deposition; return the publish answer."""
    dep = publishable(api, content)
    response = api.post(dep["links"]["publish"])
    assert response.status_code == 202, response.text
    return dict(response.json())


def md5(content: bytes) -> str:
    """Return the md5 hex digest of ``content``."""
    return hashlib.md5(content, usedforsecurity=False).hexdigest()


def all_depositions(sandbox: RunningSandbox) -> list[dict[str, Any]]:
    """Return every deposition of every user from the admin endpoint."""
    return list(sandbox.admin("GET", "depositions"))


def uploads_in_progress(sandbox: RunningSandbox) -> list[Path]:
    """Return the files in the sandbox's own temp dirs (its marker files left out)."""
    temp_dirs = sandbox.config.data_dir.glob(f"{TEMP_PREFIX}*")
    return [p for d in temp_dirs for p in d.iterdir() if p.name != TEMP_MARKER]
