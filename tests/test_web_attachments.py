"""Attachments uploaded from the desk (reply, note) and the portal (request, reply): stored
through the services, size-limited, and shown only where the message may be read."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from caredesk.people.models import User
from caredesk.servicemodel.choices import Channel
from caredesk.tickets import services
from caredesk.tickets.models import Attachment, Message, Ticket


@pytest.fixture(autouse=True)
def _storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def upload(name: str, content: bytes = b"dialer log\n") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/plain")


def case(rep: User, requester: User) -> Ticket:
    return services.open_case(
        actor=rep, subject="Dialer is broken", channel=Channel.PHONE, requester=requester
    )


def test_agent_replies_with_files_the_customer_sees(rep, alice):
    ticket = case(rep, alice)
    response = signed_in(rep).post(
        f"/desk/tickets/{ticket.number}/reply",
        {"reply-body": "Logs attached.", "reply-attachments": [upload("a.log"), upload("b.log")]},
    )
    assert response.status_code == 302
    message = Message.objects.get(ticket=ticket, kind="reply")
    assert sorted(a.filename for a in message.attachments.all()) == ["a.log", "b.log"]
    assert Attachment.objects.get(filename="a.log").file.read() == b"dialer log\n"
    assert "b.log" in signed_in(rep).get(f"/desk/tickets/{ticket.number}/").content.decode()
    assert "b.log" in signed_in(alice).get(f"/requests/{ticket.number}/").content.decode()


def test_files_of_an_internal_note_stay_internal(rep, alice):
    ticket = case(rep, alice)
    signed_in(rep).post(
        f"/desk/tickets/{ticket.number}/note",
        {"note-body": "Internal trace.", "note-attachments": [upload("trace.txt")]},
    )
    assert Attachment.objects.get().message.kind == "note"
    assert "trace.txt" in signed_in(rep).get(f"/desk/tickets/{ticket.number}/").content.decode()
    assert "trace.txt" not in signed_in(alice).get(f"/requests/{ticket.number}/").content.decode()


def test_a_file_over_the_limit_refuses_the_whole_reply(rep, alice, settings):
    settings.MAX_ATTACHMENT_BYTES = 10
    ticket = case(rep, alice)
    response = signed_in(rep).post(
        f"/desk/tickets/{ticket.number}/reply",
        {"reply-body": "Logs.", "reply-attachments": [upload("big.log", b"x" * 11)]},
    )
    assert response.status_code == 422
    assert "is too large" in response.content.decode()
    assert not Message.objects.filter(ticket=ticket).exists()
    assert not Attachment.objects.exists()


def test_customer_sends_a_request_with_a_file(alice, rep):
    response = signed_in(alice).post(
        "/",
        {
            "subject": "Export is empty",
            "description": "See the screenshot.",
            "priority": "medium",
            "attachments": [upload("screen.png", b"\x89PNG....")],
        },
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get(subject="Export is empty")
    assert [a.filename for a in Attachment.objects.filter(message__ticket=ticket)] == ["screen.png"]
    page = signed_in(alice).get(f"/requests/{ticket.number}/").content.decode()
    assert "screen.png" in page
    assert "screen.png" in signed_in(rep).get(f"/desk/tickets/{ticket.number}/").content.decode()


def test_a_request_with_a_file_over_the_limit_opens_nothing(alice, settings):
    settings.MAX_ATTACHMENT_BYTES = 10
    response = signed_in(alice).post(
        "/",
        {
            "subject": "Export is empty",
            "description": "See the screenshot.",
            "priority": "medium",
            "attachments": [upload("screen.png", b"x" * 11)],
        },
    )
    assert response.status_code == 400
    assert "is too large" in response.content.decode()
    assert not Ticket.objects.exists()


def test_customer_replies_with_a_file_and_others_never_see_it(rep, alice, gina):
    ticket = case(rep, alice)
    response = signed_in(alice).post(
        f"/requests/{ticket.number}/",
        {"body": "Here is the export.", "attachments": [upload("export.csv")]},
    )
    assert response.status_code == 302
    assert Attachment.objects.get().message.author == alice
    other = signed_in(gina).get(f"/requests/{ticket.number}/")
    assert other.status_code == 404 and "export.csv" not in other.content.decode()


def test_too_many_files_is_a_form_error(rep, alice):
    ticket = case(rep, alice)
    files = [upload(f"{i}.log") for i in range(11)]
    response = signed_in(rep).post(
        f"/desk/tickets/{ticket.number}/reply", {"reply-body": "Logs.", "reply-attachments": files}
    )
    assert response.status_code == 400
    assert "Attach at most 10 files" in response.content.decode()
    assert not Message.objects.exists()
