"""Schemathesis against the live ``/openapi.json``: no server error, no answer off its schema.

One ``serve`` process (on SQLite, with a folder to export from and the sandbox as its Zenodo)
serves every generated request, made with the admin token so that every operation runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.fixtures.cli import sandbox_environment
from tests.fixtures.web import make_token, start_serve, stop
from zenodo_export.sandbox import build_config, run_in_thread


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A ``serve`` for the whole module: its base URL and an admin token."""
    sandbox = run_in_thread(build_config(tmp_path_factory.mktemp("sandbox")))
    home = tmp_path_factory.mktemp("serve")
    allowed = home / "allowed"
    allowed.mkdir()
    (allowed / "data.csv").write_text("a,b\n1,2\n")
    env = sandbox_environment(
        sandbox, home, ZENODO_EXPORT_WEB_FILES_DIRS=str(allowed),
        ZENODO_EXPORT_WEB_UPLOAD_MAX_BYTES="100000",
    )  # fmt: skip
    token = make_token(env, home, "fuzz", "admin")
    process, base = start_serve(env, home)
    seed = {
        "name": "fuzzed", "files": [str(allowed / "data.csv")], "title": "T", "description": "D",
        "keywords": ["k"], "creators": ["Doe, Jane"], "code_repository_url": "https://e.org",
    }  # fmt: skip
    for _ in range(3):  # ids 1-3 exist, so that generated ids find exports too
        made = httpx.post(
            f"{base}/api/v1/exports", json=seed, headers={"Authorization": f"Bearer {token}"}
        )
        assert made.status_code == 201, made.text
    try:
        yield base, token
    finally:
        stop(process)
        sandbox.stop()


CHECKS = [not_a_server_error, response_schema_conformance]

FUZZ = settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)
"""Examples per operation: the whole file runs in well under 90 s on a busy machine."""


def test_every_operation_conforms_to_its_schema(live: tuple[str, str]) -> None:
    """Every operation of /api/v1: no 5xx, and every answer matches the schema it documents."""
    base, token = live
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json").include(path_regex="^/api/v1/")
    headers = {"Authorization": f"Bearer {token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 16

    for operation in operations:

        @FUZZ
        @given(case=operation.as_strategy())
        def conforms(case: Any) -> None:
            case.call_and_validate(base_url=base, headers=headers, checks=CHECKS)

        conforms()


def test_the_schema_documents_every_api_operation(live: tuple[str, str]) -> None:
    """/openapi.json lists each resource of the API and the one error shape."""
    base, _ = live
    published = httpx.get(f"{base}/openapi.json", timeout=30).json()
    paths = set(published["paths"])
    for path in (
        "/api/v1/exports", "/api/v1/exports/{export_id}", "/api/v1/exports/upload",
        "/api/v1/alerts", "/api/v1/alerts/groups", "/api/v1/schedules", "/api/v1/reports",
        "/api/v1/snapshots", "/api/v1/queue",
    ):  # fmt: skip
        assert path in paths
    assert "HTTPValidationError" not in published["components"]["schemas"]
