"""The public v2 API, field by field against Statuspage's documented shapes and enums."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from caredesk.people.models import User
from caredesk.status import public, services
from caredesk.status.models import Component

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
PAGE_FIELDS = {"id", "name", "url", "time_zone", "updated_at"}
COMPONENT_FIELDS = {
    "id",
    "name",
    "status",
    "created_at",
    "updated_at",
    "position",
    "description",
    "showcase",
    "start_date",
    "group_id",
    "page_id",
    "group",
    "only_show_if_degraded",
    # ours, beyond Statuspage's
    "environment",
    "version",
}
GROUP_FIELDS = COMPONENT_FIELDS | {"components"}
INCIDENT_FIELDS = {
    "id",
    "name",
    "status",
    "created_at",
    "updated_at",
    "monitoring_at",
    "resolved_at",
    "impact",
    "shortlink",
    "started_at",
    "page_id",
    "incident_updates",
    "components",
}
MAINTENANCE_FIELDS = INCIDENT_FIELDS | {"scheduled_for", "scheduled_until"}
UPDATE_FIELDS = {
    "id",
    "status",
    "body",
    "incident_id",
    "created_at",
    "updated_at",
    "display_at",
    "affected_components",
    "deliver_notifications",
    "custom_tweet",
    "tweet_id",
}
AFFECTED_FIELDS = {"code", "name", "old_status", "new_status"}
COMPONENT_STATUSES = {
    "operational",
    "degraded_performance",
    "partial_outage",
    "major_outage",
    "under_maintenance",
}
INDICATORS = {"none", "minor", "major", "critical", "maintenance"}
INCIDENT_STATUSES = {"investigating", "identified", "monitoring", "resolved", "postmortem"}
MAINTENANCE_STATUSES = {"scheduled", "in_progress", "verifying", "completed"}
IMPACTS = {"none", "minor", "major", "critical"}
ENDPOINTS = {
    "summary.json": {"page", "components", "incidents", "scheduled_maintenances", "status"},
    "status.json": {"page", "status"},
    "components.json": {"page", "components"},
    "incidents.json": {"page", "incidents"},
    "incidents/unresolved.json": {"page", "incidents"},
    "scheduled-maintenances.json": {"page", "scheduled_maintenances"},
    "scheduled-maintenances/upcoming.json": {"page", "scheduled_maintenances"},
    "scheduled-maintenances/active.json": {"page", "scheduled_maintenances"},
}


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    public.forget()
    yield
    public.forget()


def get(path: str) -> dict[str, Any]:
    response = Client().get(f"/status/api/v2/{path}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    assert response["Access-Control-Allow-Origin"] == "*"
    return response.json()


def timestamp(value: Any, *, nullable: bool = False) -> None:
    if value is None and nullable:
        return
    assert isinstance(value, str) and value.endswith("Z"), value
    assert datetime.fromisoformat(value).tzinfo is not None


def check_page(page: dict[str, Any]) -> None:
    assert set(page) == PAGE_FIELDS
    assert page["name"] == "LiveVox Status"
    assert page["url"] == "https://status.livevox.com"
    assert page["time_zone"] == "America/New_York"
    assert isinstance(page["id"], str) and page["id"]
    timestamp(page["updated_at"])


def check_component(c: dict[str, Any], page_id: str) -> None:
    assert set(c) == (GROUP_FIELDS if c["group"] else COMPONENT_FIELDS), c
    assert isinstance(c["id"], str) and isinstance(c["name"], str)
    assert c["status"] in COMPONENT_STATUSES
    timestamp(c["created_at"])
    timestamp(c["updated_at"])
    assert isinstance(c["position"], int) and c["position"] >= 1
    assert c["description"] is None or isinstance(c["description"], str)
    assert isinstance(c["showcase"], bool)
    assert isinstance(c["only_show_if_degraded"], bool)
    assert c["page_id"] == page_id
    assert isinstance(c["environment"], str)
    if c["group"]:
        assert c["group_id"] is None and c["version"] is None and c["start_date"] is None
        assert all(isinstance(i, str) for i in c["components"])
    else:
        assert c["group_id"] == c["environment"]
        assert isinstance(c["version"], str)
        datetime.strptime(c["start_date"], "%Y-%m-%d")


def check_incident(i: dict[str, Any], page_id: str, *, maintenance: bool) -> None:
    assert set(i) == (MAINTENANCE_FIELDS if maintenance else INCIDENT_FIELDS), i
    assert i["status"] in (MAINTENANCE_STATUSES if maintenance else INCIDENT_STATUSES)
    assert i["impact"] in (IMPACTS | {"maintenance"} if maintenance else IMPACTS)
    for field in ("created_at", "updated_at", "started_at"):
        timestamp(i[field])
    for field in ("monitoring_at", "resolved_at"):
        timestamp(i[field], nullable=True)
    if maintenance:
        timestamp(i["scheduled_for"])
        timestamp(i["scheduled_until"])
    assert i["page_id"] == page_id
    assert i["shortlink"].startswith("https://status.livevox.com/incidents/")
    assert i["incident_updates"], "every incident has its first update"
    for u in i["incident_updates"]:
        assert set(u) == UPDATE_FIELDS
        assert u["incident_id"] == i["id"]
        assert u["status"] in (MAINTENANCE_STATUSES if maintenance else INCIDENT_STATUSES)
        for field in ("created_at", "updated_at", "display_at"):
            timestamp(u[field])
        assert isinstance(u["body"], str) and u["body"]
        assert isinstance(u["deliver_notifications"], bool)
        assert u["custom_tweet"] is None and u["tweet_id"] is None
        if u["affected_components"] is not None:
            for a in u["affected_components"]:
                assert set(a) == AFFECTED_FIELDS
                assert {a["old_status"], a["new_status"]} <= COMPONENT_STATUSES
    shown = [u["display_at"] for u in i["incident_updates"]]
    assert shown == sorted(shown, reverse=True), "newest update first"
    for c in i["components"]:
        check_component(c, page_id)


def comp(env: str, name: str) -> Component:
    return Component.objects.get(environment_id=env, name=name)


@pytest.fixture
def busy_page(manager: User) -> dict[str, Any]:
    """An open incident, a resolved one, and maintenance upcoming, active and completed."""
    with time_machine.travel(T0 - timedelta(days=2), tick=False):
        old = services.create_incident(
            actor=manager,
            name="Dialer delays in NA5",
            body="Investigating.",
            components={comp("NA5", "LiveVox").pk: "degraded_performance"},
        )
        services.update_incident(old, actor=manager, status="resolved", body="Resolved.")
        done = services.schedule_maintenance(
            actor=manager,
            name="Done",
            body="Was planned.",
            scheduled_for=T0 - timedelta(days=2),
            scheduled_until=T0 - timedelta(days=2, hours=-1),
            components=[comp("TECKST", "TECKST").pk],
        )
    with time_machine.travel(T0, tick=False):
        services.advance_maintenances()
        open_ = services.create_incident(
            actor=manager,
            name="API errors in NA3",
            body="We are investigating.",
            environment="NA3",
            components={comp("NA3", "API").pk: "partial_outage"},
        )
        services.update_incident(open_, actor=manager, status="identified", body="Found it.")
        active = services.schedule_maintenance(
            actor=manager,
            name="SFTP disks",
            body="Swapping disks.",
            scheduled_for=T0 - timedelta(minutes=5),
            scheduled_until=T0 + timedelta(hours=1),
            components=[comp("SFTP", "SFTP").pk],
        )
        upcoming = services.schedule_maintenance(
            actor=manager,
            name="NA4 to LiveVox 13",
            body="Upgrade.",
            environment="NA4",
            scheduled_for=T0 + timedelta(days=1),
            scheduled_until=T0 + timedelta(days=1, hours=2),
            components=[comp("NA4", "LiveVox").pk],
            target_version="13",
        )
    return {"old": old, "open": open_, "done": done, "active": active, "upcoming": upcoming}


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_every_endpoint_has_statuspages_shape(busy_page: dict[str, Any], name: str) -> None:
    with time_machine.travel(T0 + timedelta(minutes=1), tick=False):
        body = get(name)
    assert set(body) == ENDPOINTS[name]
    check_page(body["page"])
    page_id = body["page"]["id"]
    if "status" in body:
        assert set(body["status"]) == {"indicator", "description"}
        assert body["status"]["indicator"] in INDICATORS
    for c in body.get("components", []):
        check_component(c, page_id)
    for i in body.get("incidents", []):
        check_incident(i, page_id, maintenance=False)
    for m in body.get("scheduled_maintenances", []):
        check_incident(m, page_id, maintenance=True)


def test_lists_hold_what_statuspage_puts_in_them(busy_page: dict[str, Any]) -> None:
    ids = {k: str(v.pk) for k, v in busy_page.items()}
    summary = get("summary.json")
    assert [i["id"] for i in summary["incidents"]] == [ids["open"]]
    assert [m["id"] for m in summary["scheduled_maintenances"]] == [ids["active"], ids["upcoming"]]
    assert summary["status"] == {"indicator": "major", "description": "Partial System Outage"}
    assert [i["id"] for i in get("incidents.json")["incidents"]] == [ids["open"], ids["old"]]
    assert [i["id"] for i in get("incidents/unresolved.json")["incidents"]] == [ids["open"]]
    maint = "scheduled-maintenances"
    assert [m["id"] for m in get(f"{maint}.json")["scheduled_maintenances"]] == [
        ids["upcoming"],
        ids["active"],
        ids["done"],
    ]
    assert [m["id"] for m in get(f"{maint}/upcoming.json")["scheduled_maintenances"]] == [
        ids["upcoming"]
    ]
    [active] = get(f"{maint}/active.json")["scheduled_maintenances"]
    assert (active["id"], active["status"], active["impact"]) == (
        ids["active"],
        "in_progress",
        "maintenance",
    )
    [sftp] = active["components"]
    assert (sftp["name"], sftp["status"], sftp["environment"]) == (
        "SFTP",
        "under_maintenance",
        "SFTP",
    )
    [incident] = summary["incidents"]
    assert [u["status"] for u in incident["incident_updates"]] == ["identified", "investigating"]
    first = incident["incident_updates"][-1]
    assert first["affected_components"] == [
        {
            "code": str(comp("NA3", "API").pk),
            "name": "API",
            "old_status": "operational",
            "new_status": "partial_outage",
        }
    ]
    assert incident["impact"] == "major"


def test_a_fresh_page_shows_every_environment_and_version_operational(model: None) -> None:
    summary = get("summary.json")
    assert summary["status"] == {"indicator": "none", "description": "All Systems Operational"}
    assert summary["incidents"] == [] and summary["scheduled_maintenances"] == []
    groups = [c for c in summary["components"] if c["group"]]
    assert [g["name"] for g in groups] == [
        "NA3",
        "NA4",
        "NA5",
        "NA6",
        "SFTP",
        "PDAS",
        "TECKST",
        "SPEECHIQ",
    ]
    by_key = {(c["environment"], c["name"]): c for c in summary["components"] if not c["group"]}
    assert by_key[("NA3", "LiveVox")]["version"] == "12"
    assert by_key[("NA3", "API")]["version"] == "12.0"
    assert by_key[("SPEECHIQ", "SpeechIQ")]["version"] == "12.0"
    assert len(by_key) == 12
    assert {c["status"] for c in summary["components"]} == {"operational"}
    na3 = groups[0]
    assert na3["components"] == [by_key[("NA3", "LiveVox")]["id"], by_key[("NA3", "API")]["id"]]


def test_the_json_is_cached_until_something_changes(model: None, manager: User) -> None:
    get("summary.json")
    with CaptureQueriesContext(connection) as queries:
        get("summary.json")
    assert len(queries) == 1, [q["sql"] for q in queries]  # only the cache stamp
    services.set_component(comp("NA6", "API"), actor=manager, status="major_outage")
    after = get("summary.json")
    assert after["status"] == {"indicator": "critical", "description": "Major System Outage"}
    services.set_component(comp("NA6", "API"), actor=manager, version="12.1")
    versions = {c["id"]: c["version"] for c in get("components.json")["components"]}
    assert versions[str(comp("NA6", "API").pk)] == "12.1"


def test_building_the_summary_takes_a_fixed_number_of_queries(
    busy_page: dict[str, Any], manager: User
) -> None:
    with CaptureQueriesContext(connection) as queries:
        get("summary.json")
    baseline = len(queries)
    for n in range(5):
        services.create_incident(
            actor=manager,
            name=f"More {n}",
            body="More.",
            components={comp("NA6", "LiveVox").pk: "degraded_performance"},
        )
    public.forget()
    with CaptureQueriesContext(connection) as queries:
        get("summary.json")
    assert len(queries) == baseline
    assert baseline <= 13


def test_writes_are_refused(model: None) -> None:
    response = Client().post("/status/api/v2/summary.json")
    assert response.status_code == 405
