"""Conformance: fault injection (fail, latency, drop, lost response) and the admin endpoints."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.fixtures.sandbox import SandboxFactory
from tests.sandbox.helpers import all_depositions, client, create, publishable, uploads_in_progress
from zenodo_export.sandbox import RunningSandbox

PUBLISH = r"^/api/deposit/depositions/\d+/actions/publish$"


def test_fail_answers_nginx_html_for_gateway_errors_then_is_used_up(
    sandbox: RunningSandbox, api: httpx.Client
) -> None:
    """A fail rule with status 504 answers nginx's HTML page for its `times` hits only."""
    sandbox.add_fault(
        {
            "method": "POST",
            "path": "^/api/deposit/depositions$",
            "action": "fail",
            "status": 504,
            "times": 2,
        }
    )
    for _ in range(2):
        response = api.post("deposit/depositions", json={})
        assert response.status_code == 504
        assert response.headers["content-type"].startswith("text/html")
        assert "<title>504 Gateway Time-out</title>" in response.text
        assert "<center>nginx</center>" in response.text
    assert api.post("deposit/depositions", json={}).status_code == 201
    assert len(all_depositions(sandbox)) == 1


def test_fail_with_another_status_answers_zenodo_json(
    sandbox: RunningSandbox, api: httpx.Client
) -> None:
    """A fail rule with a non-gateway status answers Zenodo's JSON body, Retry-After if set."""
    sandbox.add_fault({"path": "depositions", "action": "fail", "status": 429, "retry_after": 7})
    response = api.get("deposit/depositions")
    assert response.status_code == 429
    assert response.json() == {"status": 429, "message": "Too Many Requests"}
    assert response.headers["Retry-After"] == "7"


def test_fail_rules_match_method_and_path(sandbox: RunningSandbox, api: httpx.Client) -> None:
    """A rule for POST does not hit GET, nor paths its regex does not find."""
    sandbox.add_fault(
        {"method": "POST", "path": "/actions/publish$", "action": "fail", "status": 500}
    )
    assert api.get("deposit/depositions").status_code == 200
    assert api.post("deposit/depositions", json={}).status_code == 201
    dep = publishable(api)
    response = api.post(dep["links"]["publish"])
    assert response.status_code == 500
    assert response.json()["status"] == 500
    assert api.post(dep["links"]["publish"]).status_code == 202


def test_latency_delays_the_answer(sandbox: RunningSandbox, api: httpx.Client) -> None:
    """A latency rule sleeps, then handles the request normally."""
    sandbox.add_fault(
        {"method": "GET", "path": "^/api/deposit/depositions$", "action": "latency", "seconds": 0.3}
    )
    start = time.monotonic()
    assert api.get("deposit/depositions").status_code == 200
    assert time.monotonic() - start >= 0.3


def test_drop_resets_the_connection_in_the_middle_of_an_upload(
    sandbox: RunningSandbox, api: httpx.Client
) -> None:
    """A drop rule cuts the upload after some bytes: the client sees a connection error."""
    dep = create(api)
    sandbox.add_fault(
        {"method": "PUT", "path": "^/api/files/", "action": "drop", "after_bytes": 64 * 1024}
    )
    with pytest.raises(httpx.TransportError):
        api.put(f"{dep['links']['bucket']}/big.bin", content=b"x" * (4 * 1024 * 1024))
    assert api.get(dep["links"]["files"]).json() == []
    assert uploads_in_progress(sandbox) == []
    assert api.put(f"{dep['links']['bucket']}/big.bin", content=b"ok").status_code == 201


def test_drop_without_a_body_resets_at_once(sandbox: RunningSandbox, api: httpx.Client) -> None:
    """A drop rule on a GET resets the connection without any answer."""
    sandbox.add_fault({"method": "GET", "path": "^/api/deposit/depositions$", "action": "drop"})
    with pytest.raises(httpx.TransportError):
        api.get("deposit/depositions")
    assert api.get("deposit/depositions").status_code == 200


def test_lost_response_publishes_but_answers_504(
    sandbox: RunningSandbox, api: httpx.Client
) -> None:
    """'Publish succeeds but the response is lost': 504 HTML, yet the record is published once."""
    dep = publishable(api)
    sandbox.add_fault({"method": "POST", "path": PUBLISH, "action": "lost_response"})
    response = api.post(dep["links"]["publish"])
    assert response.status_code == 504
    assert "Gateway Time-out" in response.text
    assert api.get(dep["links"]["self"]).json()["state"] == "done"
    assert api.post(dep["links"]["publish"]).status_code == 404
    assert [d["state"] for d in all_depositions(sandbox)] == ["done"]


def test_faults_can_be_given_at_start_in_flag_syntax(sandbox_factory: SandboxFactory) -> None:
    """A fault given at start in the command-line syntax is active from the first request."""
    sandbox = sandbox_factory(faults=[f"POST {PUBLISH} lost_response times=1"])
    with client(sandbox) as api:
        dep = publishable(api)
        assert api.post(dep["links"]["publish"]).status_code == 504
        assert api.get(dep["links"]["self"]).json()["state"] == "done"


def test_fault_rules_are_listed_counted_and_cleared(
    sandbox: RunningSandbox, api: httpx.Client
) -> None:
    """GET /_sandbox/faults shows rules with hits; DELETE removes one or all."""
    first = sandbox.add_fault(
        {"path": "^/api/records/", "action": "fail", "status": 502, "times": None}
    )
    sandbox.add_fault({"path": "^/nowhere$", "action": "latency", "seconds": 1})
    api.get("records/1")
    api.get("records/1")
    rules = sandbox.admin("GET", "faults")["faults"]
    assert (rules[0]["id"], rules[0]["hits"], rules[0]["times"]) == (first["id"], 2, None)
    sandbox.admin("DELETE", f"faults/{first['id']}")
    assert len(sandbox.admin("GET", "faults")["faults"]) == 1
    sandbox.admin("DELETE", "faults")
    assert sandbox.admin("GET", "faults")["faults"] == []


def test_an_invalid_fault_rule_is_400(sandbox: RunningSandbox) -> None:
    """A rule with an unknown action, field or bad regex is refused with 400."""
    for rule in (
        {"action": "explode"},
        {"action": "fail", "colour": 1},
        {"action": "fail", "path": "("},
    ):
        response = httpx.post(f"{sandbox.admin_url}faults", json=rule)
        assert response.status_code == 400, rule


def test_list_lag_changes_at_run_time(sandbox: RunningSandbox, api: httpx.Client) -> None:
    """POST /_sandbox/settings sets the list lag of a running sandbox."""
    assert sandbox.settings(list_lag_seconds=30)["list_lag_seconds"] == 30
    create(api)
    assert api.get("deposit/depositions").json() == []
    sandbox.settings(list_lag_seconds=0)
    assert len(api.get("deposit/depositions").json()) == 1


def test_bad_settings_are_400(sandbox: RunningSandbox) -> None:
    """Unknown settings and bad values are refused."""
    for change in ({"tokens": ["x"]}, {"rate_limits": ["5/fortnight"]}, {"max_files": 0}):
        assert httpx.post(f"{sandbox.admin_url}settings", json=change).status_code == 400


def test_admin_depositions_lists_every_user(sandbox_factory: SandboxFactory) -> None:
    """GET /_sandbox/depositions shows every user's depositions with state, DOI and files."""
    sandbox = sandbox_factory(tokens=["alice", "bob"])
    with client(sandbox, "alice") as alice, client(sandbox, "bob") as bob:
        publishable(alice)
        create(bob)
    rows = all_depositions(sandbox)
    assert len({r["owner"] for r in rows}) == 2
    assert rows[0]["files"][0]["checksum"].startswith("md5:")
    assert rows[0]["doi"] is None and rows[0]["state"] == "unsubmitted"


def test_stats_count_answers_by_status(sandbox: RunningSandbox, api: httpx.Client) -> None:
    """GET /_sandbox/stats counts answers by status; DELETE resets it."""
    api.get("deposit/depositions")
    httpx.get(f"{sandbox.api_url}deposit/depositions")
    stats = sandbox.admin("GET", "stats")
    assert (stats["by_status"], stats["requests"]) == ({"200": 1, "403": 1}, 2)
    sandbox.admin("DELETE", "stats")
    assert sandbox.admin("GET", "stats")["requests"] == 0
