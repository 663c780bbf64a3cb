"""Conformance: tokens (header or query), scopes, and depositions belonging to their user."""

from __future__ import annotations

import httpx

from tests.fixtures.sandbox import SandboxFactory
from tests.sandbox.helpers import METADATA, client, create, publishable, upload
from zenodo_export.sandbox import RunningSandbox

FORBIDDEN = {
    "status": 403,
    "message": "You don't have the permission to access the requested resource. "
    "It is either read-protected or not readable by the server.",
}


def test_a_missing_token_is_403(sandbox: RunningSandbox) -> None:
    """No token: 403 with Zenodo's body, on reads and writes."""
    url = f"{sandbox.api_url}deposit/depositions"
    for response in (httpx.get(url), httpx.post(url, json={})):
        assert response.status_code == 403
        assert response.json() == FORBIDDEN


def test_an_unknown_token_is_403(sandbox: RunningSandbox) -> None:
    """A token the sandbox does not know: 403."""
    with client(sandbox, "not-a-token") as api:
        assert api.get("deposit/depositions").status_code == 403


def test_the_token_may_come_as_access_token(sandbox: RunningSandbox) -> None:
    """?access_token= works like the Bearer header."""
    url = f"{sandbox.api_url}deposit/depositions"
    response = httpx.post(url, params={"access_token": sandbox.token}, json={})
    assert response.status_code == 201


def test_a_write_only_token_cannot_publish(sandbox_factory: SandboxFactory) -> None:
    """A token limited to deposit:write creates and uploads, but publish/edit/discard are 403."""
    sandbox = sandbox_factory(tokens=["writer:deposit:write"])
    with client(sandbox, "writer") as api:
        dep = publishable(api)
        for action in ("publish", "edit", "discard"):
            assert api.post(dep["links"][action]).status_code == 403, action
        assert api.get(dep["links"]["self"]).json()["state"] == "unsubmitted"


def test_someone_elses_deposition_is_403(sandbox_factory: SandboxFactory) -> None:
    """Another user's deposition and bucket are 403 for reading and writing."""
    sandbox = sandbox_factory(tokens=["alice", "bob"])
    with client(sandbox, "alice") as alice, client(sandbox, "bob") as bob:
        dep = create(alice, METADATA)
        assert bob.get(dep["links"]["self"]).status_code == 403
        assert bob.put(dep["links"]["self"], json={"metadata": {}}).status_code == 403
        assert bob.delete(dep["links"]["self"]).status_code == 403
        assert upload(bob, dep, "x", b"x").status_code == 403
        assert alice.get(dep["links"]["self"]).json()["title"] == METADATA["title"]


def test_each_token_is_its_own_user(sandbox_factory: SandboxFactory) -> None:
    """Depositions carry their token's user as owner."""
    sandbox = sandbox_factory(tokens=["alice", "bob"])
    with client(sandbox, "alice") as alice, client(sandbox, "bob") as bob:
        assert create(alice)["owner"] != create(bob)["owner"]
