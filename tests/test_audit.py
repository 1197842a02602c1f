"""The audit trail: admin saves and deletes, model loads, users, tokens and status components,
each with actor, time, object and before/after; read by admins only."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from model_files import guide, write

from caredesk.core.models import AuditEntry
from caredesk.people import services as people
from caredesk.people.models import Organization, User
from caredesk.status.models import Component

NOON = "2026-11-20 12:00:00+00:00"


@pytest.fixture
def admin_user(model: None) -> User:
    return people.add_user(
        "admin@caredesk.test", role="admin", name="Ada Admin", password="correct horse battery"
    )


@pytest.fixture
def admin_client(admin_user: User) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


def _org_form(org: Organization, **changes: Any) -> dict[str, Any]:
    data = {
        "key": org.key,
        "name": org.name,
        "domains-TOTAL_FORMS": "1",
        "domains-INITIAL_FORMS": "1",
        "domains-MIN_NUM_FORMS": "0",
        "domains-MAX_NUM_FORMS": "1000",
        "domains-0-id": str(org.domains.get().pk),
        "domains-0-organization": str(org.pk),
        "domains-0-domain": org.domains.get().domain,
        "_save": "Save",
    }
    if org.shares_tickets:
        data["shares_tickets"] = "on"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_an_admin_change_is_recorded_with_before_and_after(
    admin_client: Client, admin_user: User, acme: Organization
) -> None:
    with time_machine.travel(NOON, tick=False):
        response = admin_client.post(
            f"/admin/people/organization/{acme.pk}/change/",
            _org_form(acme, shares_tickets=None, **{"domains-0-domain": "acme.example"}),
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    acme.refresh_from_db()
    assert acme.shares_tickets is False

    org_entry = AuditEntry.objects.get(object_type="people.organization")
    assert (org_entry.actor, org_entry.actor_label) == (admin_user, "admin@caredesk.test")
    assert (org_entry.source, org_entry.action) == ("admin", "changed")
    assert org_entry.object_id == str(acme.pk) and org_entry.object_repr == "Acme"
    assert org_entry.at.isoformat() == "2026-11-20T12:00:00+00:00"
    assert org_entry.changes == {"shares_tickets": [True, False]}
    inline = AuditEntry.objects.get(object_type="people.organizationdomain")
    assert inline.action == "changed"
    assert inline.changes == {"domain": ["acme.test", "acme.example"]}


def test_admin_creation_and_deletion_are_recorded(admin_client: Client, admin_user: User) -> None:
    created = admin_client.post(
        "/admin/people/organization/add/",
        {
            "key": "initech",
            "name": "Initech",
            "shares_tickets": "on",
            "domains-TOTAL_FORMS": "0",
            "domains-INITIAL_FORMS": "0",
            "domains-MIN_NUM_FORMS": "0",
            "domains-MAX_NUM_FORMS": "1000",
        },
    )
    assert created.status_code == 302, created.content.decode()[:2000]
    org = Organization.objects.get(key="initech")
    added = AuditEntry.objects.get(action="created")
    assert added.changes["name"] == [None, "Initech"]
    assert added.changes["shares_tickets"] == [None, True]

    deleted = admin_client.post(f"/admin/people/organization/{org.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 302
    gone = AuditEntry.objects.get(action="deleted")
    assert (gone.object_id, gone.object_repr) == (str(org.pk), "Initech")
    assert gone.changes["key"] == ["initech", None]


def test_a_role_change_in_the_admin_hides_the_password_hash(
    admin_client: Client, rep: User
) -> None:
    form = {
        "email": rep.email,
        "name": "Casey Rep",
        "role": "engineer",
        "team": "technical-support",
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "_save": "Save",
        # The agent's shifts inline, left empty.
        "shifts-TOTAL_FORMS": "0",
        "shifts-INITIAL_FORMS": "0",
    }
    response = admin_client.post(f"/admin/people/user/{rep.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:3000]
    entry = AuditEntry.objects.get(object_type="people.user")
    assert entry.changes["role"] == ["representative", "engineer"]
    assert entry.changes["team"] == ["customer-care", "technical-support"]
    assert "password" not in entry.changes  # unchanged, and never stored in clear
    assert "pbkdf2" not in str(entry.changes) and "md5" not in str(entry.changes)


def test_loading_a_model_records_what_changed(model: None, tmp_path: Path) -> None:
    data = guide()
    data["channels"]["email"]["first_response_target"] = "15m"
    call_command("load_model", str(write(tmp_path, data)), stdout=StringIO())
    entry = AuditEntry.objects.get(action="service_model.loaded")
    assert entry.source == "cli" and entry.actor is None
    assert entry.actor_label.startswith("command line")
    changed = {key: values for key, values in entry.changes.items() if "email" in key}
    assert list(changed.values()) == [["10m", "15m"]], entry.changes


def test_a_bad_model_file_records_nothing(model: None, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("this is not toml = = =")
    with pytest.raises(Exception, match="nothing changed"):
        call_command("load_model", str(bad), stdout=StringIO())
    assert not AuditEntry.objects.exists()


def test_users_and_tokens_made_on_the_command_line_are_recorded(model: None) -> None:
    call_command("user", "add", "new@caredesk.test", "--role", "engineer", stdout=StringIO())
    call_command("token", "create", "new@caredesk.test", "--scope", "read", stdout=StringIO(),
                 stderr=StringIO())  # fmt: skip
    user_entry, token_entry = AuditEntry.objects.order_by("id")
    assert (user_entry.action, user_entry.object_repr) == ("created", "new@caredesk.test")
    assert user_entry.changes["role"] == [None, "engineer"]
    assert token_entry.action == "token.created"
    assert token_entry.changes["scope"] == [None, "read"]
    assert token_entry.changes["digest"][1].startswith("hidden:")


def test_status_component_edits_through_the_api_are_recorded(manager: User, api: Any) -> None:
    component = Component.objects.get(environment_id="NA3", name="API")
    answer = api(manager).post(
        f"/api/v1/status/components/{component.pk}",
        {"version": "12.1", "status": "degraded_performance"},
    )
    assert answer.status_code == 200, answer.content
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.source, entry.object_type) == (manager, "api", "status.component")
    assert entry.changes["version"] == [component.version, "12.1"]
    assert entry.changes["status"] == ["operational", "degraded_performance"]


def test_only_admins_read_the_audit_trail(
    admin_client: Client, manager: User, acme: Organization
) -> None:
    admin_client.post(
        f"/admin/people/organization/{acme.pk}/change/", _org_form(acme, name="Acme Corp")
    )
    listing = admin_client.get("/admin/core/auditentry/?source__exact=admin")
    assert listing.status_code == 200
    assert "Acme Corp" in listing.content.decode()
    entry = AuditEntry.objects.get()
    detail = admin_client.get(f"/admin/core/auditentry/{entry.pk}/change/").content.decode()
    assert "&quot;Acme&quot;" in detail and "&quot;Acme Corp&quot;" in detail
    assert admin_client.get("/admin/core/auditentry/add/").status_code == 403
    assert (
        admin_client.post(f"/admin/core/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )

    as_manager = Client()
    as_manager.force_login(manager)
    assert as_manager.get("/admin/core/auditentry/").status_code == 403


def test_a_password_change_in_the_admin_is_recorded_without_the_password(
    admin_client: Client, rep: User
) -> None:
    response = admin_client.post(
        f"/admin/people/user/{rep.pk}/password/",
        {"password1": "a brand new secret 42", "password2": "a brand new secret 42",
         "set_usable_password": "true"},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = AuditEntry.objects.get(action="password.changed")
    before, after = entry.changes["password"]
    assert before != after and before.startswith("hidden:") and after.startswith("hidden:")
    assert "brand new" not in str(entry.changes)
    assert admin_client.get("/admin/people/user/not-a-number/password/").status_code in (302, 404)
