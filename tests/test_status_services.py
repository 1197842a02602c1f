"""Status page rules: component history, incidents, maintenance, the overall indicator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine

from caredesk.core.errors import Conflict, DomainError, Forbidden, InvalidInput
from caredesk.people.models import User
from caredesk.status import services
from caredesk.status.models import Component, ComponentChange, Incident, PageState
from caredesk.status.overall import overall

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def comp(env: str, name: str) -> Component:
    return Component.objects.get(environment_id=env, name=name)


def snapshot() -> tuple[Any, ...]:
    return (
        list(Component.objects.values_list("status", "version").order_by("pk")),
        ComponentChange.objects.count(),
        Incident.objects.count(),
        PageState.objects.first(),
    )


@pytest.mark.parametrize(
    ("statuses", "impacts", "expected"),
    [
        (["operational", "operational"], [], ("none", "All Systems Operational")),
        (["operational", "degraded_performance"], [], ("minor", "Partially Degraded Service")),
        (["partial_outage", "degraded_performance"], [], ("major", "Partial System Outage")),
        (["major_outage", "partial_outage"], [], ("critical", "Major System Outage")),
        (["operational", "under_maintenance"], [], ("maintenance", "Service Under Maintenance")),
        (["under_maintenance", "partial_outage"], [], ("major", "Partial System Outage")),
        (["operational"], ["minor"], ("minor", "Minor Service Outage")),
        (["degraded_performance"], ["critical"], ("critical", "Critical Service Outage")),
        (["major_outage"], ["minor"], ("critical", "Major System Outage")),
        ([], [], ("none", "All Systems Operational")),
    ],
)
def test_overall_indicator_blends_components_and_incidents(
    statuses: list[str], impacts: list[str], expected: tuple[str, str]
) -> None:
    assert tuple(overall(statuses, impacts)) == expected


def test_a_deploy_and_a_status_change_are_recorded(manager: User) -> None:
    api = comp("NA3", "API")
    with time_machine.travel(T0, tick=False):
        services.set_component(api, actor=manager, version="12.1")
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        services.set_component(api, actor=manager, status="degraded_performance")
    api.refresh_from_db()
    assert (api.version, api.status) == ("12.1", "degraded_performance")
    deploy, degraded = ComponentChange.objects.filter(component=api)
    assert (deploy.old_version, deploy.version, deploy.at, deploy.is_deploy) == (
        "12.0",
        "12.1",
        T0,
        True,
    )
    assert (degraded.old_status, degraded.status, degraded.is_deploy) == (
        "operational",
        "degraded_performance",
        False,
    )
    assert degraded.actor == manager
    assert PageState.objects.get().updated_at == T0 + timedelta(hours=1)


def test_setting_what_is_already_set_records_nothing(manager: User) -> None:
    services.set_component(comp("NA3", "API"), actor=manager, version="12.0", status="operational")
    assert ComponentChange.objects.count() == 0


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda m: services.set_component(comp("NA3", "API"), actor=m, status="down"), "status"),
        (
            lambda m: services.create_incident(actor=m, name="Slow", body="Looking", impact="huge"),
            "impact",
        ),
        (
            lambda m: services.create_incident(
                actor=m, name="Slow", body="Looking", status="scheduled"
            ),
            "status",
        ),
        (
            lambda m: services.create_incident(
                actor=m,
                name="Slow",
                body="Looking",
                components={comp("NA3", "API").pk: "sideways"},
            ),
            "components.{api}",
        ),
        (
            lambda m: services.create_incident(
                actor=m,
                name="Slow",
                body="Looking",
                environment="NA4",
                components={comp("NA3", "API").pk: "partial_outage"},
            ),
            "components.{api}",
        ),
        (
            lambda m: services.create_incident(
                actor=m, name="Slow", body="Looking", components={"999999": "partial_outage"}
            ),
            "components.999999",
        ),
        (
            lambda m: services.create_incident(
                actor=m, name="Slow", body="Looking", environment="NA9"
            ),
            "environment",
        ),
        (lambda m: services.create_incident(actor=m, name=" ", body="Looking"), "name"),
        (
            lambda m: services.schedule_maintenance(
                actor=m,
                name="Upgrade",
                body="Upgrading",
                scheduled_for=T0 + timedelta(hours=2),
                scheduled_until=T0 + timedelta(hours=1),
                components=[comp("NA3", "API").pk],
            ),
            "scheduled_until",
        ),
        (
            lambda m: services.schedule_maintenance(
                actor=m,
                name="Upgrade",
                body="Upgrading",
                environment="NA5",
                scheduled_for=T0 + timedelta(hours=1),
                scheduled_until=T0 + timedelta(hours=2),
                components=[comp("NA3", "API").pk],
            ),
            "components.{api}",
        ),
    ],
)
def test_bad_input_is_refused_clearly_and_changes_nothing(
    manager: User, call: Any, field: str
) -> None:
    before = snapshot()
    with time_machine.travel(T0, tick=False), pytest.raises(InvalidInput) as error:
        call(manager)
    assert error.value.field == field.format(api=comp("NA3", "API").pk)
    assert error.value.message
    assert snapshot() == before


def test_only_managers_and_admins_may_change_the_page(rep: User, manager: User) -> None:
    with pytest.raises(Forbidden):
        services.set_component(comp("NA3", "API"), actor=rep, status="major_outage")
    with pytest.raises(Forbidden):
        services.create_incident(actor=rep, name="Down", body="Down")
    assert comp("NA3", "API").status == "operational"


def test_an_incident_sets_its_components_and_resolving_restores_them(manager: User) -> None:
    api, livevox = comp("NA3", "API"), comp("NA3", "LiveVox")
    with time_machine.travel(T0, tick=False):
        incident = services.create_incident(
            actor=manager,
            name="API errors in NA3",
            body="We are investigating.",
            environment="NA3",
            components={str(api.pk): "partial_outage"},
        )
    assert incident.impact == "major"  # from the worst status it set
    assert comp("NA3", "API").status == "partial_outage"
    first = incident.updates.get()
    assert first.affected_components == [
        {
            "code": str(api.pk),
            "name": "API",
            "old_status": "operational",
            "new_status": "partial_outage",
        }
    ]
    with time_machine.travel(T0 + timedelta(minutes=20), tick=False):
        services.update_incident(
            incident,
            actor=manager,
            status="identified",
            body="A bad node.",
            components={livevox.pk: "degraded_performance"},
        )
    with time_machine.travel(T0 + timedelta(minutes=40), tick=False):
        services.update_incident(incident, actor=manager, status="monitoring", body="Fixed.")
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        resolved = services.update_incident(
            incident, actor=manager, status="resolved", body="All good."
        )
    incident.refresh_from_db()
    assert incident.status == "resolved"
    assert incident.monitoring_at == T0 + timedelta(minutes=40)
    assert incident.resolved_at == T0 + timedelta(hours=1)
    assert {(c["name"], c["new_status"]) for c in resolved.affected_components} == {
        ("API", "operational"),
        ("LiveVox", "operational"),
    }
    assert set(incident.components.values_list("name", flat=True)) == {"API", "LiveVox"}
    assert [u.status for u in incident.updates.all()] == [
        "resolved",
        "monitoring",
        "identified",
        "investigating",
    ]


def test_resolving_leaves_a_component_another_open_incident_holds(manager: User) -> None:
    api = comp("NA3", "API")
    first = services.create_incident(
        actor=manager, name="A", body="A", components={api.pk: "partial_outage"}
    )
    services.create_incident(actor=manager, name="B", body="B", components={api.pk: "major_outage"})
    services.update_incident(first, actor=manager, status="resolved", body="A is fixed.")
    assert comp("NA3", "API").status == "major_outage"


def test_illegal_incident_moves_are_refused(manager: User) -> None:
    incident = services.create_incident(actor=manager, name="A", body="A")
    services.update_incident(incident, actor=manager, status="resolved", body="Done")
    services.update_incident(incident, actor=manager, status="postmortem", body="Why")
    with pytest.raises(Conflict):
        services.update_incident(incident, actor=manager, status="investigating", body="Again")
    with pytest.raises(DomainError):
        services.update_incident(incident, actor=manager, status="completed", body="No")


def test_an_upgrade_starts_and_ends_on_time_and_deploys_its_version(manager: User) -> None:
    livevox = comp("NA4", "LiveVox")
    with time_machine.travel(T0, tick=False):
        upgrade = services.schedule_maintenance(
            actor=manager,
            name="NA4 upgrade to LiveVox 13",
            body="We upgrade NA4.",
            scheduled_for=T0 + timedelta(hours=2),
            scheduled_until=T0 + timedelta(hours=4),
            components=[livevox.pk],
            target_version="13",
            environment="NA4",
        )
        assert services.advance_maintenances() == []
    assert upgrade.status == "scheduled" and upgrade.impact == "maintenance"
    with time_machine.travel(T0 + timedelta(hours=2, seconds=5), tick=False):
        [started] = services.advance_maintenances()
        assert services.advance_maintenances() == []  # a second sweep does nothing
    assert started.status == "in_progress"
    assert comp("NA4", "LiveVox").status == "under_maintenance"
    assert tuple(overall(Component.objects.values_list("status", flat=True))) == (
        "maintenance",
        "Service Under Maintenance",
    )
    with time_machine.travel(T0 + timedelta(hours=4, minutes=1), tick=False):
        [completed] = services.advance_maintenances()
    assert completed.status == "completed"
    livevox.refresh_from_db()
    assert (livevox.status, livevox.version) == ("operational", "13")
    deploy = ComponentChange.objects.filter(component=livevox).last()
    assert (deploy.old_version, deploy.version, deploy.incident) == ("12", "13", upgrade)
    upgrade.refresh_from_db()
    assert upgrade.resolved_at == T0 + timedelta(hours=4, minutes=1)


def test_a_maintenance_can_be_moved_by_hand_and_cancelled(manager: User) -> None:
    sftp = comp("SFTP", "SFTP")
    with time_machine.travel(T0, tick=False):
        window = services.schedule_maintenance(
            actor=manager,
            name="SFTP disks",
            body="Disk swap.",
            auto_transition=False,
            scheduled_for=T0 - timedelta(hours=1),
            scheduled_until=T0 + timedelta(hours=1),
            components=[sftp.pk],
        )
        assert services.advance_maintenances() == []  # not automatic
        services.update_maintenance(window, actor=manager, status="in_progress", body="Started")
        services.update_maintenance(window, actor=manager, status="verifying", body="Checking")
        assert comp("SFTP", "SFTP").status == "under_maintenance"
        services.update_maintenance(window, actor=manager, status="completed")
        with pytest.raises(Conflict):
            services.update_maintenance(window, actor=manager, status="in_progress")
        cancelled = services.schedule_maintenance(
            actor=manager,
            name="Later",
            body="Later.",
            scheduled_for=T0 + timedelta(days=1),
            scheduled_until=T0 + timedelta(days=1, hours=1),
            components=[sftp.pk],
            target_version="13.0",
        )
        services.update_maintenance(cancelled, actor=manager, status="completed", body="Cancelled.")
    sftp.refresh_from_db()
    assert (sftp.status, sftp.version) == ("operational", "12.0")


def test_a_maintenance_whose_start_has_passed_starts_at_once(manager: User) -> None:
    with time_machine.travel(T0, tick=False):
        window = services.schedule_maintenance(
            actor=manager,
            name="Now",
            body="Now.",
            scheduled_for=T0 - timedelta(minutes=5),
            scheduled_until=T0 + timedelta(hours=1),
            components=[comp("PDAS", "PDAS").pk],
        )
    window.refresh_from_db()
    assert window.status == "in_progress"
    assert comp("PDAS", "PDAS").status == "under_maintenance"


def test_the_worker_task_moves_maintenance_on_time(manager: User) -> None:
    from caredesk.status import tasks

    with time_machine.travel(T0, tick=False):
        services.schedule_maintenance(
            actor=manager,
            name="Tonight",
            body="Tonight.",
            scheduled_for=T0 + timedelta(hours=1),
            scheduled_until=T0 + timedelta(hours=2),
            components=[comp("NA6", "API").pk],
        )
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        assert tasks.advance_maintenances.call_local() == 1
    assert comp("NA6", "API").status == "under_maintenance"
    with time_machine.travel(T0 + timedelta(hours=2), tick=False):
        assert tasks.advance_maintenances.call_local() == 1
    assert comp("NA6", "API").status == "operational"


def test_a_reloaded_model_records_its_new_versions_as_deploys(manager: User, tmp_path: Any) -> None:
    from model_files import MODEL_FILE

    from caredesk.servicemodel import loader

    services.set_component(comp("NA3", "LiveVox"), actor=manager, status="partial_outage")
    loader.load(MODEL_FILE)  # the same file again: the outage is the file's "operational"
    (_outage, back) = ComponentChange.objects.order_by("pk")
    assert (back.old_status, back.status, back.actor) == ("partial_outage", "operational", None)
    path = tmp_path / "model.toml"
    path.write_text(
        MODEL_FILE.read_text().replace(
            'name = "NA4"\ncomponents = [\n    { name = "LiveVox", version = "12" },',
            'name = "NA4"\ncomponents = [\n    { name = "LiveVox", version = "13" },',
        )
    )
    loader.load(path)
    deploy = ComponentChange.objects.latest("pk")
    assert (deploy.component, deploy.old_version, deploy.version) == (
        comp("NA4", "LiveVox"),
        "12",
        "13",
    )
    count = ComponentChange.objects.count()
    loader.load(path)
    assert ComponentChange.objects.count() == count, "nothing changed, nothing recorded"
