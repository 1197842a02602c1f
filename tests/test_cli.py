"""The `caredesk` command line: users, tokens, and the service model file."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from model_files import MODEL_FILE, wipe_model

from caredesk.people.models import ApiToken, Organization, User
from caredesk.servicemodel import loader

CAREDESK = Path(sys.executable).parent / "caredesk"


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


# --- user add ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "extra", "team"),
    [
        ("representative", [], "customer-care"),
        ("engineer", [], "technical-support"),
        ("coordinator", [], "project-coordination"),
        ("emergency", [], "emergency-care"),
        ("manager", [], None),
        ("manager", ["--team", "customer-care"], "customer-care"),
        ("admin", [], None),
    ],
)
def test_user_add_agents(model: None, role: str, extra: list[str], team: str | None) -> None:
    out = run(
        "user",
        "add",
        "Someone@Caredesk.test",
        "--role",
        role,
        "--name",
        "Some One",
        "--password",
        "a long enough secret",
        *extra,
    )
    assert "someone@caredesk.test" in out
    user = User.objects.get(email="someone@caredesk.test")
    assert (user.role, user.team_id, user.name, user.organization) == (role, team, "Some One", None)
    assert user.is_agent
    assert user.check_password("a long enough secret")
    assert user.is_staff == (role in ("manager", "admin"))
    assert user.is_superuser == (role == "admin")


def test_user_add_customer_creates_the_organization_once(model: None) -> None:
    run("user", "add", "carl@initech.test", "--role", "customer", "--org", "Initech")
    run("user", "add", "dana@initech.test", "--role", "customer", "--org", "initech")
    org = Organization.objects.get(key="initech")
    assert org.name == "Initech"
    assert set(org.contacts.values_list("email", flat=True)) == {
        "carl@initech.test",
        "dana@initech.test",
    }
    carl = User.objects.get(email="carl@initech.test")
    assert (carl.role, carl.is_agent, carl.team) == ("customer", False, None)
    assert not carl.has_usable_password()


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--role", "customer"], "--org"),
        (["--role", "engineer", "--team", "customer-care"], "team of representatives"),
        (["--role", "representative", "--team", "billing"], "Unknown team 'billing'"),
        (["--role", "customer", "--org", "Acme", "--team", "customer-care"], "not a team"),
        (["--role", "engineer", "--org", "Acme"], "Only customers"),
    ],
)
def test_user_add_refusals_change_nothing(model: None, args: list[str], problem: str) -> None:
    users, orgs = User.objects.count(), Organization.objects.count()
    with pytest.raises(CommandError, match=problem):
        run("user", "add", "new@caredesk.test", *args)
    assert (User.objects.count(), Organization.objects.count()) == (users, orgs)


def test_user_add_unknown_role_is_refused(model: None) -> None:
    with pytest.raises(CommandError, match="invalid choice"):
        run("user", "add", "new@caredesk.test", "--role", "wizard")
    assert not User.objects.exists()


def test_user_add_duplicate_email_is_refused(rep: User) -> None:
    with pytest.raises(CommandError, match="already has an account"):
        run("user", "add", "REP@caredesk.test", "--role", "engineer")
    assert User.objects.get(email="rep@caredesk.test").role == "representative"


# --- token create ---------------------------------------------------------------------------


def test_token_create_prints_a_token_that_works(rep: User, alice: User) -> None:
    token = run("token", "create", "rep@caredesk.test", "--scope", "read").split()[-1]
    client = Client(headers={"Authorization": f"Bearer {token}"})
    resp = client.get("/api/v1/tickets")
    assert resp.status_code == 200, resp.content
    assert (
        client.post(
            "/api/v1/tickets", {"subject": "x"}, content_type="application/json"
        ).status_code
        == 403
    )
    assert ApiToken.objects.get(user=rep).scope == "read"


def test_token_without_scope_has_all_the_users_rights(rep: User) -> None:
    token = run("token", "create", "rep@caredesk.test").split()[-1]
    client = Client(headers={"Authorization": f"Bearer {token}"})
    resp = client.post("/api/v1/tickets", {"subject": "x"}, content_type="application/json")
    assert resp.status_code == 201, resp.content


def test_token_for_an_unknown_user_is_refused(model: None) -> None:
    with pytest.raises(CommandError, match="No user"):
        run("token", "create", "ghost@caredesk.test")
    assert not ApiToken.objects.exists()


# --- load-model / export-model in-process ---------------------------------------------------


def test_load_model_command(db: None) -> None:
    out = run("load_model", str(MODEL_FILE))
    assert "Loaded" in out
    assert (
        tomllib.loads(run("export_model"))["ticket_types"]["customer-care"]["first_number"] == 100
    )


def test_export_model_loads_back_into_an_empty_database(model: None, tmp_path: Path) -> None:
    exported = tmp_path / "exported.toml"
    exported.write_text(run("export_model"))
    wipe_model()
    assert not loader.is_loaded()
    run("load_model", str(exported))
    assert run("export_model") == exported.read_text()


def test_load_model_bad_file_changes_nothing(model: None, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(MODEL_FILE.read_text().replace("first_number = 100100", 'first_number = "x"'))
    before = loader.export()
    with pytest.raises(CommandError) as refused:
        run("load_model", str(bad))
    message = str(refused.value)
    assert (
        f"{bad}: ticket_types.project-coordination.first_number: must be a whole number" in message
    )
    assert "nothing changed" in message
    assert loader.export() == before


# --- the real console script against its own data dir ----------------------------------------


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    data = tmp_path_factory.mktemp("instance")
    env = {**os.environ, "CAREDESK_DATA_DIR": str(data), "CAREDESK_LOG_LEVEL": "WARNING"}
    env.pop("CAREDESK_DATABASE_URL", None)
    subprocess.run([str(CAREDESK), "migrate", "-v0"], env=env, check=True, timeout=120)
    return env


def cli(env: dict[str, str], *args: str) -> Any:
    return subprocess.run(
        [str(CAREDESK), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_console_script_bad_model_exits_non_zero_and_changes_nothing(
    instance: dict[str, str], tmp_path: Path, model: None
) -> None:
    loaded = cli(instance, "load-model", str(MODEL_FILE))
    assert loaded.returncode == 0, loaded.stderr
    bad = tmp_path / "bad-model.toml"
    bad.write_text(
        MODEL_FILE.read_text()
        .replace('calendar = "staffed"', 'calendar = "office"', 1)
        .replace('first_response_target = "30s"', 'first_response_target = "quick"')
    )
    result = cli(instance, "load-model", str(bad))
    assert result.returncode != 0
    assert (
        f"{bad}: teams.customer-care.calendar: names the unknown calendar 'office'" in result.stderr
    )
    assert f"{bad}: channels.phone.first_response_target:" in result.stderr
    assert "Traceback" not in result.stderr
    # Still the guide's model, exactly as this process exports it from the same file.
    assert cli(instance, "export-model").stdout == loader.export_toml()


def test_console_script_user_and_token(instance: dict[str, str]) -> None:
    # A customer needs no team, so this holds whichever model the instance has.
    added = cli(
        instance, "user", "add", "eve@initech.test", "--role", "customer", "--org", "Initech"
    )
    assert added.returncode == 0, added.stderr
    token = cli(instance, "token", "create", "eve@initech.test", "--scope", "read")
    assert token.returncode == 0, token.stderr
    assert token.stdout.split()[-1].startswith("cd_")
