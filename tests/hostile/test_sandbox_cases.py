"""Web pages against a sandbox on loopback: DNS rebinding and cross-site writes are refused.

A page its user opens can make the browser send requests to ``127.0.0.1``; with the default
token known to all, a sandbox that answered them could be filled or published from the web.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from zenodo_export.sandbox import RunningSandbox
from zenodo_export.sandbox.neighbours import refusal

pytestmark = pytest.mark.hostile


def deposits(sandbox: RunningSandbox) -> list[Any]:
    """Return the sandbox's depositions, asked as a client would."""
    response = httpx.get(
        f"{sandbox.api_url}deposit/depositions", params={"access_token": sandbox.token}
    )
    response.raise_for_status()
    result: list[Any] = response.json()
    return result


def create(sandbox: RunningSandbox, **headers: str) -> httpx.Response:
    """Ask to create a deposition with extra request headers."""
    return httpx.post(
        f"{sandbox.api_url}deposit/depositions",
        params={"access_token": sandbox.token},
        json={},
        headers=headers,
    )


@pytest.mark.parametrize("host", ["evil.example", "evil.example:80", "10.0.0.1", "[fe80::1]"])
def test_a_rebound_host_name_is_refused(host: str, sandbox: RunningSandbox) -> None:
    """A request addressed to another name (DNS rebinding) gets 421 in JSON and changes nothing."""
    response = create(sandbox, Host=host)
    assert response.status_code == 421
    assert "loopback addresses only" in response.json()["message"]
    assert deposits(sandbox) == []


@pytest.mark.parametrize("origin", ["https://evil.example", "null", "http://127.0.0.2:5000"])
def test_a_cross_site_write_is_refused(origin: str, sandbox: RunningSandbox) -> None:
    """A write from a page of another origin (``null``: a sandboxed frame) gets 403."""
    response = create(sandbox, Origin=origin)
    assert response.status_code == 403
    assert "Cross-site requests are refused" in response.json()["message"]
    assert deposits(sandbox) == []


def test_a_cross_site_form_cannot_publish(sandbox: RunningSandbox) -> None:
    """A form POST to the publish action (no JSON needed) is refused; the draft stays a draft."""
    draft = create(sandbox).json()
    response = httpx.post(
        draft["links"]["publish"],
        params={"access_token": sandbox.token},
        content=b"x=1",
        headers={"Origin": "https://evil.example", "Content-Type": "text/plain"},
    )
    assert response.status_code == 403
    [stored] = deposits(sandbox)
    assert stored["submitted"] is False


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "127.8.9.10", "[::1]"])
def test_loopback_names_and_same_origin_pages_pass(host: str, sandbox: RunningSandbox) -> None:
    """Clients (no Origin) and a page of the sandbox's own origin are answered as before."""
    port = sandbox.base_url.rpartition(":")[2]
    assert create(sandbox, Host=f"{host}:{port}").status_code == 201
    assert create(sandbox, Origin=f"http://{host}:{port}", Host=f"{host}:{port}").status_code == 201


def test_a_sandbox_bound_elsewhere_does_not_check_names() -> None:
    """Bound to another address (it warns), the names other machines use are answered."""
    scope = {
        "type": "http",
        "method": "POST",
        "server": ("10.1.2.3", 5000),
        "headers": [(b"host", b"sandbox.lab.example:5000"), (b"origin", b"https://x.example")],
    }
    assert refusal(scope) is None
    assert refusal({**scope, "server": ("127.0.0.1", 5000)}) is not None
