"""Hostile input through every surface we have: API fields, portal and desk forms, names,
organization names, file names, status incidents and CSV exports. Script payloads come back
escaped (never as markup), template syntax stays text, formulas in exports are neutralised,
header injection is refused, path traversal is neutralised, and oversized input gets a clear
4xx. The real browser confirms nothing runs: tests/e2e/test_hostile_pages.py."""

from __future__ import annotations

import ast
import html
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

import caredesk
from caredesk.core.spreadsheet import csv_text, safe_cell
from caredesk.people import services as people
from caredesk.people.models import User
from caredesk.servicemodel.models import Team
from caredesk.status import services as status_services
from caredesk.tickets import services
from caredesk.tickets.models import Ticket

pytestmark = pytest.mark.django_db

# Each payload, if it ever reached a page unescaped, would run or change the markup.
MARKUP = [
    "<script>window.pwned=1</script>",
    "<img src=x onerror=window.pwned=1>",
    '"><svg onload=window.pwned=1>',
    "'><iframe src=javascript:window.pwned=1>",
    '<a href="javascript:window.pwned=1">click</a>',
    "</textarea><script>window.pwned=1</script>",
    "{{7*7}}{% now 'Y' %}",
]
FORMULAS = ['=HYPERLINK("http://evil.test","x")', "+1+1", "-1+1", "@SUM(1,1)", "\t=1", "\r=1"]
BIG = "x" * 1_000_000


def _signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def assert_inert(page: str, payload: str) -> None:
    """The payload shows as text: escaped, never as markup, never evaluated (the template
    syntax payload appears literally, so it was not rendered)."""
    if any(ch in payload for ch in "<>\"'"):
        assert payload not in page, payload
    assert html.escape(payload) in page, payload
    assert 'href="javascript:' not in page.lower()


@pytest.fixture
def hostile_case(rep: User, api: Any, alice: User) -> dict[str, Any]:
    """A case whose every field a person can fill carries a payload, through the API."""
    client = api(rep)
    created = []
    for payload in MARKUP:
        resp = client.post(
            "/api/v1/tickets",
            {
                "subject": f"Subject {payload}",
                "description": f"Description {payload}",
                "requester": f"{abs(hash(payload))}@acme.test",
                "requester_name": f"Name {payload}",
            },
        )
        assert resp.status_code == 201, resp.content
        number = resp.json()["number"]
        reply = client.post(f"/api/v1/tickets/{number}/replies", {"body": f"Reply {payload}"})
        assert reply.status_code == 201
        note = client.post(f"/api/v1/tickets/{number}/notes", {"body": f"Note {payload}"})
        assert note.status_code == 201
        created.append((number, payload))
    return {"cases": created}


def test_api_payloads_render_as_text_in_the_desk(rep: User, hostile_case: dict[str, Any]) -> None:
    desk = _signed_in(rep)
    queue = desk.get("/desk/?view=all").content.decode()
    for number, payload in hostile_case["cases"]:
        page = desk.get(f"/desk/tickets/{number}/").content.decode()
        for field in ("Subject", "Description", "Reply", "Note", "Name"):
            assert_inert(page, f"{field} {payload}")
        assert_inert(queue, f"Subject {payload}")
        # The htmx partial of the queue escapes too.
        partial = desk.get("/desk/", {"q": "Subject"}, headers={"HX-Request": "true"})
        assert f"Subject {payload}" not in partial.content.decode() or "<" not in payload


def test_portal_forms_carry_payloads_as_text(alice: User, rep: User) -> None:
    portal = _signed_in(alice)
    for payload in MARKUP:
        resp = portal.post("/", {"subject": payload, "description": payload, "priority": "medium"})
        assert resp.status_code == 302, resp.content[:500]
        number = resp.headers["Location"].rstrip("/").rsplit("/", 1)[1]
        resp = portal.post(f"/requests/{number}/", {"body": f"Again {payload}"})
        assert resp.status_code == 302
        for page in (
            portal.get(f"/requests/{number}/").content.decode(),
            portal.get("/requests/").content.decode(),
            _signed_in(rep).get(f"/desk/tickets/{number}/").content.decode(),
        ):
            assert_inert(page, payload)


def test_desk_forms_and_organization_names_carry_payloads_as_text(rep: User) -> None:
    desk = _signed_in(rep)
    for i, payload in enumerate(MARKUP):
        org = people.get_or_create_organization(f"Org {payload}")
        resp = desk.post(
            "/desk/new/",
            {
                "requester_email": f"caller{i}@example.test",
                "requester_name": f"Caller {payload}",
                "organization": org.pk,
                "subject": f"Phone {payload}",
                "description": payload,
                "priority": "medium",
                "channel": "phone",
            },
        )
        assert resp.status_code == 302, resp.content[:800]
        page = desk.get(resp.headers["Location"]).content.decode()
        for text in (f"Caller {payload}", f"Phone {payload}", f"Org {payload}"):
            assert_inert(page, text)


def test_file_names_are_shown_as_text_and_stored_inside_the_folder(rep: User, alice: User) -> None:
    case = services.open_case(actor=alice, subject="Files", channel="portal")
    names = [f"{p}.png" for p in MARKUP[:3]] + ["../../../etc/cron.d/x", "a\u202egnp.exe"]
    message = services.reply(
        case,
        actor=rep,
        body="Files",
        attachments=[SimpleUploadedFile(n, b"data", content_type="image/png") for n in names],
    )
    page = _signed_in(alice).get(f"/requests/{case.number}/").content.decode()
    for attachment in message.attachments.all():
        assert "/" not in attachment.filename and "\u202e" not in attachment.filename
        assert (
            Path(attachment.file.path)
            .resolve()
            .is_relative_to(Path(attachment.file.storage.location).resolve())
        )
        if "<" in attachment.filename:
            assert_inert(page, attachment.filename)


def test_status_incidents_render_payloads_as_text(manager: User) -> None:
    for payload in MARKUP:
        incident = status_services.create_incident(
            actor=manager, name=f"Outage {payload}", body=f"Body {payload}", components={}
        )
        for path in ("/status/", f"/status/incidents/{incident.pk}/", "/status/history/"):
            page = Client().get(path).content.decode()
            assert_inert(page, f"Outage {payload}")
        feed = Client().get("/status/history.atom").content.decode()
        assert f"Outage {payload}" not in feed or "<" not in payload


# --- CSV -------------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", FORMULAS)
def test_csv_cells_never_start_a_formula(payload: str) -> None:
    cell = safe_cell(payload)
    assert cell.startswith("'")
    assert cell[1:] == payload
    text = csv_text(["a"], [[payload], [-5], [3.5]])
    assert "\r\n-5\r\n" in text  # numbers stay numbers


def test_the_report_export_neutralises_formulas_in_team_names(rep: User) -> None:
    Team.objects.filter(pk="technical-support").update(name=FORMULAS[0])
    csv_page = _signed_in(rep).get("/desk/reports/", {"format": "csv", "group": "team"})
    assert csv_page.status_code == 200
    for line in csv_page.content.decode().splitlines():
        for cell in line.split(","):
            assert not cell.strip('"').startswith(("=", "+", "@")), line


def test_every_csv_is_written_by_the_one_helper() -> None:
    root = Path(caredesk.__file__).parent
    writers = []
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in ("writer", "DictWriter")
                and isinstance(node.value, ast.Name)
                and node.value.id == "csv"
                and path.name != "spreadsheet.py"
            ):
                writers.append(f"{path.relative_to(root)}:{node.lineno}")
    assert not writers, f"Write CSV with caredesk.core.spreadsheet.csv_text: {writers}"


# --- headers and redirects -------------------------------------------------------------------


def test_a_subject_cannot_inject_mail_headers(api: Any, rep: User) -> None:
    resp = api(rep).post(
        "/api/v1/tickets",
        {"subject": "Help\r\nBcc: everyone@evil.test\r\n\r\nbody", "requester_name": "A\r\nB"},
    )
    assert resp.status_code == 201
    subject = Ticket.objects.get(number=resp.json()["number"]).subject
    assert "\r" not in subject and "\n" not in subject
    assert subject == "Help Bcc: everyone@evil.test body"


@pytest.mark.parametrize(
    "target", ["https://evil.test/", "//evil.test/", "/\\evil.test", "javascript:alert(1)"]
)
def test_sign_in_never_redirects_off_site(alice: User, target: str) -> None:
    resp = Client().post(
        f"/signin/?next={target}",
        {"username": alice.email, "password": "correct horse battery", "next": target},
    )
    assert resp.status_code == 302
    assert resp.headers["Location"] in ("/", "/desk/")


def test_header_values_with_line_breaks_are_refused(model: None) -> None:
    resp = Client().get("/api/v1/tickets", headers={"Authorization": "Bearer cd_x\r\nX-A: b"})
    assert resp.status_code == 401


# --- oversized input -------------------------------------------------------------------------


def test_oversized_input_is_a_clear_4xx(api: Any, rep: User, alice: User) -> None:
    client = api(rep)
    before = Ticket.objects.count()
    for body in ({"subject": BIG}, {"subject": "ok", "description": BIG}):
        resp = client.post("/api/v1/tickets", body)
        assert resp.status_code == 422
        assert resp.json()["field"] in ("subject", "description")
    assert Ticket.objects.count() == before
    case = services.open_case(actor=alice, subject="Small", channel="portal")
    resp = client.post(f"/api/v1/tickets/{case.number}/replies", {"body": BIG})
    assert resp.status_code == 422 and resp.json()["field"] == "body"
    portal = _signed_in(alice).post(
        "/", {"subject": "ok", "description": BIG, "priority": "medium"}
    )
    assert portal.status_code == 400
    assert "at most 100000 characters" in portal.content.decode()
    desk = _signed_in(rep).post(f"/desk/tickets/{case.number}/reply", {"reply-body": BIG})
    assert desk.status_code == 400
    assert case.messages.count() == 0
