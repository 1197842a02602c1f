"""Managing the status page through the REST API: deploys, incidents, maintenance, rights."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine

from caredesk.people import services as people
from caredesk.people.models import User
from caredesk.status import public
from caredesk.status.models import Component, ComponentChange, Incident

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    public.forget()
    yield
    public.forget()


def comp(env: str, name: str) -> Component:
    return Component.objects.get(environment_id=env, name=name)


def refused(resp: Any, status: int, field: str | None = None) -> None:
    assert resp.status_code == status, resp.content
    body = resp.json()
    assert body["field"] == field
    assert body["message"]


@pytest.fixture
def admin(model: None) -> User:
    return people.add_user(
        "admin@caredesk.test", role="admin", name="Ada Admin", password="correct horse battery"
    )


def test_a_deploy_pipeline_sets_a_version_by_id_and_by_name(
    api: Callable[..., Any], manager: User
) -> None:
    client = api(manager, scope="status")
    livevox = comp("NA3", "LiveVox")
    resp = client.post(f"/api/v1/status/components/{livevox.pk}", {"version": "12.1"})
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert (body["id"], body["version"], body["environment"], body["status"]) == (
        str(livevox.pk),
        "12.1",
        "NA3",
        "operational",
    )
    resp = client.post(
        "/api/v1/status/environments/NA4/components/API",
        {"status": "degraded_performance", "version": "12.1"},
    )
    assert resp.status_code == 200, resp.content
    assert (resp.json()["status"], resp.json()["version"]) == ("degraded_performance", "12.1")
    assert ComponentChange.objects.filter(version="12.1").count() == 2
    public_view = client.get("/status/api/v2/components.json").json()["components"]
    assert {c["version"] for c in public_view if c["id"] == str(livevox.pk)} == {"12.1"}


def test_an_incident_is_opened_updated_and_resolved(api: Callable[..., Any], admin: User) -> None:
    client = api(admin)
    api_na3 = comp("NA3", "API")
    with time_machine.travel(T0, tick=False):
        resp = client.post(
            "/api/v1/status/incidents",
            {
                "name": "NA3 API errors",
                "status": "investigating",
                "impact": "major",
                "body": "We are looking into API errors in NA3.",
                "components": {str(api_na3.pk): "partial_outage"},
            },
        )
    assert resp.status_code == 201, resp.content
    incident = resp.json()
    assert (incident["status"], incident["impact"]) == ("investigating", "major")
    assert [c["name"] for c in incident["components"]] == ["API"]
    assert incident["components"][0]["status"] == "partial_outage"
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        resp = client.post(
            f"/api/v1/status/incidents/{incident['id']}/updates",
            {"status": "resolved", "body": "Fixed."},
        )
    assert resp.status_code == 201, resp.content
    done = resp.json()
    assert done["status"] == "resolved" and done["resolved_at"] == "2026-03-02T16:00:00.000Z"
    assert [u["status"] for u in done["incident_updates"]] == ["resolved", "investigating"]
    assert comp("NA3", "API").status == "operational"
    summary = client.get("/status/api/v2/summary.json").json()
    assert summary["status"]["indicator"] == "none" and summary["incidents"] == []


def test_a_maintenance_with_a_target_version(api: Callable[..., Any], manager: User) -> None:
    client = api(manager)
    livevox = comp("NA5", "LiveVox")
    with time_machine.travel(T0, tick=False):
        resp = client.post(
            "/api/v1/status/maintenances",
            {
                "name": "NA5 upgrade to LiveVox 13",
                "body": "Upgrading NA5.",
                "scheduled_for": "2026-03-03T02:00:00Z",
                "scheduled_until": "2026-03-03T04:00:00Z",
                "components": [str(livevox.pk)],
                "target_version": "13",
                "environment": "NA5",
            },
        )
    assert resp.status_code == 201, resp.content
    window = resp.json()
    assert (window["status"], window["impact"]) == ("scheduled", "maintenance")
    assert window["scheduled_for"] == "2026-03-03T02:00:00.000Z"
    with time_machine.travel(T0 + timedelta(hours=12), tick=False):
        for status in ("in_progress", "completed"):
            resp = client.post(
                f"/api/v1/status/maintenances/{window['id']}/updates", {"status": status}
            )
            assert resp.status_code == 201, resp.content
    livevox.refresh_from_db()
    assert (livevox.version, livevox.status) == ("13", "operational")
    resp = client.post(
        f"/api/v1/status/maintenances/{window['id']}/updates", {"status": "in_progress"}
    )
    refused(resp, 409, "status")


@pytest.mark.parametrize(
    ("path", "payload", "status", "field"),
    [
        ("/api/v1/status/components/{api}", {"status": "broken"}, 422, "status"),
        ("/api/v1/status/components/999999", {"status": "operational"}, 404, None),
        ("/api/v1/status/environments/NA3/components/Nope", {"version": "1"}, 404, None),
        ("/api/v1/status/incidents", {"name": "X", "body": "Y", "impact": "severe"}, 422, "impact"),
        ("/api/v1/status/incidents", {"name": "X", "body": "Y", "status": "fine"}, 422, "status"),
        (
            "/api/v1/status/incidents",
            {
                "name": "X",
                "body": "Y",
                "environment": "NA5",
                "components": {"{api}": "major_outage"},
            },
            422,
            "components.{api}",
        ),
        (
            "/api/v1/status/maintenances",
            {
                "name": "X",
                "body": "Y",
                "components": ["{api}"],
                "scheduled_for": "2026-03-03T04:00:00Z",
                "scheduled_until": "2026-03-03T02:00:00Z",
            },
            422,
            "scheduled_until",
        ),
        ("/api/v1/status/incidents/999999/updates", {"status": "resolved", "body": "Z"}, 404, None),
    ],
)
def test_bad_requests_get_a_clear_error_and_change_nothing(
    api: Callable[..., Any],
    manager: User,
    path: str,
    payload: dict[str, Any],
    status: int,
    field: str | None,
) -> None:
    pk = str(comp("NA3", "API").pk)
    payload = {
        k: (
            {kk.replace("{api}", pk): vv for kk, vv in v.items()}
            if isinstance(v, dict)
            else [x.replace("{api}", pk) for x in v]
            if isinstance(v, list)
            else v
        )
        for k, v in payload.items()
    }
    before = (
        list(Component.objects.values_list("status", "version")),
        Incident.objects.count(),
        ComponentChange.objects.count(),
    )
    resp = api(manager).post(path.replace("{api}", pk), payload)
    refused(resp, status, field.replace("{api}", pk) if field else None)
    after = (
        list(Component.objects.values_list("status", "version")),
        Incident.objects.count(),
        ComponentChange.objects.count(),
    )
    assert after == before


def test_only_managers_and_admins_with_a_status_token(
    api: Callable[..., Any], manager: User, rep: User, engineer: User, alice: User
) -> None:
    pk = comp("NA3", "API").pk
    for user in (rep, engineer, alice):
        resp = api(user).post(f"/api/v1/status/components/{pk}", {"status": "major_outage"})
        refused(resp, 403)
    for scope in ("read", "write", "intake"):
        resp = api(manager, scope=scope).post(
            f"/api/v1/status/components/{pk}", {"status": "major_outage"}
        )
        assert resp.status_code == 403, (scope, resp.content)
    resp = api(manager).client.post(
        f"/api/v1/status/components/{pk}",
        {"status": "major_outage"},
        content_type="application/json",
    )
    assert resp.status_code == 401
    assert comp("NA3", "API").status == "operational"
    assert api(manager, scope="status").get("/api/v1/status/components").status_code == 200


def test_the_openapi_document_describes_the_status_api(
    api: Callable[..., Any], manager: User
) -> None:
    doc = api(manager).get("/api/v1/openapi.json").json()
    assert "/api/v1/status/incidents" in doc["paths"]
    assert "/api/v1/status/components/{component_id}" in doc["paths"]
