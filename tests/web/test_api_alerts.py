"""/api/v1/alerts over real HTTP: list, filter, group, resolve one or alike; roles; errors."""

from __future__ import annotations

from typing import Any

from tests.fixtures.web import Served
from tests.web.test_api_exports import error, metadata, run_worker


def failed_export(served: Served, name: str) -> dict[str, Any]:
    """Upload an export Zenodo refuses (an unknown license) and let a worker fail it."""
    answer = served.admin.post(
        "/api/v1/exports/upload",
        data=metadata(name, license="no-such-license"),
        files=[("files", (f"{name}.csv", b"1,2\n"))],
    )
    assert answer.status_code == 201, answer.text
    made: dict[str, Any] = answer.json()
    return made


def test_list_filter_group_and_resolve(served_on: Served) -> None:
    """Alerts of failed exports are listed, filtered, grouped, and resolved one or all alike."""
    served = served_on  # on each backend
    first, second = failed_export(served, "one"), failed_export(served, "two")
    run_worker(served)
    listed = served.viewer.get("/api/v1/alerts").json()
    assert {a["export_id"] for a in listed["items"]} == {first["id"], second["id"]}
    alert = listed["items"][0]
    assert alert["resolved"] is False and alert["backtrace"] and listed["next"] is None
    for filters in (
        {"class_name": alert["class_name"]},
        {"level": alert["level"]},
        {"hostname": alert["hostname"]},
        {"q": alert["message"][5:25].upper()},
    ):
        assert len(served.viewer.get("/api/v1/alerts", params=filters).json()["items"]) == 2
    mine = served.viewer.get("/api/v1/alerts", params={"export_id": first["id"]}).json()
    assert [a["export_id"] for a in mine["items"]] == [first["id"]]
    assert served.viewer.get("/api/v1/alerts", params={"level": "FATAL"}).json()["items"] == []
    page = served.viewer.get("/api/v1/alerts", params={"limit": 1}).json()
    assert served.viewer.get(page["next"]).json()["items"][0]["uuid"] != page["items"][0]["uuid"]
    groups = served.viewer.get("/api/v1/alerts/groups").json()
    assert sum(group["count"] for group in groups) == 2
    resolved = served.admin.post(f"/api/v1/alerts/{alert['uuid']}/resolve")
    assert resolved.status_code == 200 and resolved.json()["resolved"] is True
    assert resolved.json()["resolved_at"]
    assert len(served.viewer.get("/api/v1/alerts").json()["items"]) == 1
    [other] = served.viewer.get("/api/v1/alerts").json()["items"]
    alike = {"class_name": other["class_name"], "message": other["message"]}
    assert served.admin.post("/api/v1/alerts/resolve", json=alike).json() == {"resolved": 1}
    assert served.admin.post("/api/v1/alerts/resolve", json=alike).json() == {"resolved": 0}
    assert served.viewer.get("/api/v1/alerts").json()["items"] == []
    everything = served.viewer.get("/api/v1/alerts", params={"resolved": "any"}).json()
    assert len(everything["items"]) == 2
    done = served.viewer.get("/api/v1/alerts", params={"resolved": "true"}).json()
    assert len(done["items"]) == 2
    assert served.env["ZENODO_TOKEN"] not in str(everything)


def test_roles_and_bad_values(served: Served) -> None:
    """No token: 401; a viewer cannot resolve (403); bad filters and unknown uuids name what."""
    alike = {"class_name": "x", "message": "y"}
    error(served.client().get("/api/v1/alerts"), 401)
    error(served.client().get("/api/v1/alerts/groups"), 401)
    assert "viewer" in error(served.viewer.post("/api/v1/alerts/resolve", json=alike), 403)
    uuid = "00000000-0000-0000-0000-000000000000"
    assert "viewer" in error(served.viewer.post(f"/api/v1/alerts/{uuid}/resolve"), 403)
    assert uuid in error(served.admin.post(f"/api/v1/alerts/{uuid}/resolve"), 404)
    error(served.admin.post("/api/v1/alerts/not-a-uuid!/resolve"), 422, "uuid")
    error(served.viewer.get("/api/v1/alerts", params={"level": "LOUD"}), 422, "level")
    error(served.viewer.get("/api/v1/alerts", params={"resolved": "maybe"}), 422, "resolved")
    error(served.viewer.get("/api/v1/alerts", params={"export_id": "one"}), 422, "export_id")
    error(served.viewer.get("/api/v1/alerts", params={"hostname": "a\x00"}), 400, "hostname")
    error(served.admin.post("/api/v1/alerts/resolve", json={"class_name": "x"}), 422, "message")
