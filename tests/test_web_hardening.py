"""Web hardening: CSRF on every form endpoint, a strict Content-Security-Policy and the
security headers on every kind of response, Secure cookies behind https, sign-in
throttling on every sign-in form, and attachments that are always downloads."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from test_access_matrix import ENDPOINTS, World, _value, world  # noqa: F401

from caredesk.people import services as people
from caredesk.people.models import User
from caredesk.tickets import services
from caredesk.tickets.models import Attachment, Ticket

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery"

# Endpoints that take a POST without a CSRF token, and why.
CSRF_EXEMPT = {
    "status:unsubscribe": "RFC 8058 one-click unsubscribe: mail providers POST with no cookie; "
    "the signed URL alone authorizes it",
}


def _signed_in(user: User) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


# --- CSRF ----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["anonymous", "representative", "customer"])
def test_every_page_refuses_a_post_without_the_csrf_token(
    request: pytest.FixtureRequest, who: str
) -> None:
    """Generated from the URL configuration: a new page is checked without being listed."""
    shared: World = request.getfixturevalue("world")
    client = (
        Client(enforce_csrf_checks=True) if who == "anonymous" else _signed_in(shared.users[who])
    )
    before = (Ticket.objects.count(), Attachment.objects.count())
    accepted = []
    for endpoint in ENDPOINTS:
        if endpoint.api or endpoint.key in CSRF_EXEMPT:
            continue
        path = endpoint.route.format(
            **{p: _value(shared, endpoint, p, "own") for p in endpoint.params}
        )
        response = client.post(path, {"body": "x", "subject": "x", "description": "x"})
        if response.status_code not in (403, 405):
            accepted.append(f"{endpoint.key} {path}: {response.status_code}")
    assert not accepted, "POST accepted without a CSRF token:\n" + "\n".join(accepted)
    assert (Ticket.objects.count(), Attachment.objects.count()) == before
    for key in CSRF_EXEMPT:
        assert any(e.key == key for e in ENDPOINTS), f"{key} is gone: drop it from CSRF_EXEMPT"


def test_the_api_ignores_session_cookies(alice: User) -> None:
    """The API authenticates by token only, so a forged cross-site request carrying the
    browser's session cookie gets nowhere (and needs no CSRF token)."""
    response = _signed_in(alice).post(
        "/api/v1/tickets", {"subject": "Forged"}, content_type="application/json"
    )
    assert response.status_code == 401
    assert not Ticket.objects.exists()


# --- headers -------------------------------------------------------------------------------


def _directives(policy: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("anonymous", "/"),
        ("anonymous", "/signin/"),
        ("anonymous", "/status/"),
        ("anonymous", "/status/api/v2/summary.json"),
        ("anonymous", "/api/v1/tickets"),
        ("anonymous", "/api/v1/docs"),
        ("anonymous", "/admin/login/"),
        ("anonymous", "/no-such-page/"),
        ("rep", "/desk/"),
        ("rep", "/desk/reports/?format=csv"),
        ("alice", "/requests/"),
    ],
)
def test_security_headers_on_every_kind_of_response(
    request: pytest.FixtureRequest, model: None, who: str, path: str
) -> None:
    client = Client() if who == "anonymous" else _signed_in(request.getfixturevalue(who))
    response = client.get(path)
    assert response.status_code < 500
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    policy = _directives(response["Content-Security-Policy"])
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    for values in policy.values():
        assert not {"'unsafe-inline'", "'unsafe-eval'", "*", "http:", "https:"} & set(values)


def test_a_changed_policy_applies_to_the_next_response(model: None, settings: Any) -> None:
    # The header is built once per process; a changed setting must not keep the old one.
    assert "img.example" not in Client().get("/")["Content-Security-Policy"]
    settings.CONTENT_SECURITY_POLICY = {
        "DIRECTIVES": {"default-src": ["'self'"], "img-src": ["'self'", "https://img.example"]}
    }
    assert _directives(Client().get("/")["Content-Security-Policy"])["img-src"] == [
        "'self'",
        "https://img.example",
    ]


def test_the_api_docs_load_their_scripts_from_this_site(model: None) -> None:
    page = Client().get("/api/v1/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()


def _settings_for(base_url: str, data_dir: Path) -> list[str]:
    code = (
        "import django; django.setup(); from django.conf import settings as s;"
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY,"
        " s.SECURE_HSTS_SECONDS > 0)"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "caredesk.settings",
        "CAREDESK_BASE_URL": base_url,
        "CAREDESK_DATA_DIR": str(data_dir),
    }
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.split()


def test_cookies_are_secure_behind_https(tmp_path: Path) -> None:
    assert _settings_for("https://desk.example.com", tmp_path) == ["True"] * 4
    # Plain http (a laptop, a test) cannot carry Secure cookies; they stay HttpOnly.
    assert _settings_for("http://127.0.0.1:8000", tmp_path) == ["False", "False", "True", "False"]


# --- sign-in throttling ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("form", "locked_text"), [("/signin/", "Sign-in paused"), ("/admin/login/", "paused")]
)
def test_every_sign_in_form_pauses_after_repeated_failures(
    model: None, form: str, locked_text: str
) -> None:
    admin = people.add_user("root@caredesk.test", role="admin", password=PASSWORD)
    client = Client()
    for _ in range(4):
        response = client.post(form, {"username": admin.email, "password": "guess"})
        assert response.status_code == 200
    client.post(form, {"username": admin.email, "password": "guess"})
    response = client.post(form, {"username": admin.email, "password": PASSWORD})
    assert response.status_code == 429
    assert locked_text in response.content.decode()
    assert "_auth_user_id" not in client.session


# --- attachments ---------------------------------------------------------------------------


def _attach(rep: User, alice: User, name: str, content: bytes, content_type: str) -> Attachment:
    case = services.open_case(actor=alice, subject="Files", channel="portal")
    message = services.reply(
        case,
        actor=rep,
        body="See the file",
        attachments=[SimpleUploadedFile(name, content, content_type=content_type)],
    )
    return message.attachments.get()


def _download_checks(response: Any) -> None:
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    for header, value in response.items():
        assert "\r" not in value and "\n" not in value, header


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("page.html", "text/html"),
        ("page.htm", "text/html; charset=utf-8"),
        ("drawing.svg", "image/svg+xml"),
        ("feed.xml", "application/xml"),
        ("app.js", "application/javascript"),
        ("page.xhtml", "application/xhtml+xml"),
        ("weird", "text/html\r\nSet-Cookie: a=b"),
        ("flash.swf", "application/x-shockwave-flash"),
    ],
)
def test_active_types_are_never_served_as_themselves(
    rep: User, alice: User, name: str, content_type: str
) -> None:
    attachment = _attach(rep, alice, name, b"<script>alert(1)</script>", content_type)
    for client, path in [
        (_signed_in(alice), f"/attachments/{attachment.pk}/"),
        (_signed_in(rep), f"/attachments/{attachment.pk}/"),
    ]:
        response = client.get(path)
        _download_checks(response)
        assert response["Content-Type"] == "application/octet-stream"
    token = people.create_token(alice)[1]
    response = Client().get(
        f"/api/v1/attachments/{attachment.pk}", headers={"Authorization": f"Bearer {token}"}
    )
    _download_checks(response)
    assert response["Content-Type"] == "application/octet-stream"
    assert b"".join(response.streaming_content) == b"<script>alert(1)</script>"


def test_passive_types_keep_their_type_but_still_download(rep: User, alice: User) -> None:
    attachment = _attach(rep, alice, "dialer.log.txt", b"12:00 dialer up", "text/plain")
    response = _signed_in(alice).get(f"/attachments/{attachment.pk}/")
    _download_checks(response)
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="dialer.log.txt"'


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("../../etc/passwd", 'attachment; filename="passwd"'),
        ("..\\..\\boot.ini", 'attachment; filename="boot.ini"'),
        ('quote".txt', 'attachment; filename="quote\\".txt"'),
        ("invoice\u202efdp.exe", 'attachment; filename="invoicefdp.exe"'),
        ("nul\x00byte.txt", 'attachment; filename="nulbyte.txt"'),
        ("crlf\r\nSet-Cookie: x=y.txt", 'attachment; filename="crlfSet-Cookie: x=y.txt"'),
        ("résumé.pdf", "attachment; filename*=utf-8''r%C3%A9sum%C3%A9.pdf"),
    ],
)
def test_file_names_cannot_break_out_of_the_header_or_the_folder(
    rep: User, alice: User, name: str, shown: str
) -> None:
    attachment = _attach(rep, alice, name, b"data", "application/octet-stream")
    response = _signed_in(rep).get(f"/attachments/{attachment.pk}/")
    _download_checks(response)
    assert response["Content-Disposition"] == shown
    stored = Path(attachment.file.path).resolve()
    assert stored.is_relative_to(Path(attachment.file.storage.location).resolve())
    assert "\u202e" not in attachment.filename and "\x00" not in attachment.filename


def test_oversized_attachments_are_refused(rep: User, alice: User, settings: Any) -> None:
    settings.MAX_ATTACHMENT_BYTES = 10
    case = services.open_case(actor=alice, subject="Files", channel="portal")
    from caredesk.core.errors import InvalidInput

    with pytest.raises(InvalidInput, match="too large"):
        services.reply(
            case,
            actor=rep,
            body="big",
            attachments=[SimpleUploadedFile("big.bin", b"x" * 11)],
        )
    assert not Attachment.objects.exists()
