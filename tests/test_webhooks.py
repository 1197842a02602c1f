"""Outgoing webhooks: the API, a real HTTP receiver on loopback, signatures, retries with
backoff, and SSRF refusals (loopback, IPv6 loopback, cloud metadata, redirects, rebinding)."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from huey.contrib.djhuey import HUEY

from caredesk.api import outgoing
from caredesk.api.models import Webhook, WebhookDelivery
from caredesk.core.models import AuditEntry
from caredesk.people.models import User
from caredesk.sla import services as sla
from caredesk.status import public
from caredesk.status import services as status
from caredesk.tickets import services

ET = ZoneInfo("America/New_York")
TUESDAY_10 = datetime(2026, 12, 1, 10, 0, tzinfo=ET)
ALL_TICKET_EVENTS = [
    "ticket.opened",
    "ticket.replied",
    "ticket.escalated",
    "ticket.assigned",
    "ticket.breached",
    "ticket.resolved",
]
HOOK_HOST = "hooks.test"  # resolves to the receiver on 127.0.0.1 (see `dns`)


class Receiver:
    """An HTTP server thread on 127.0.0.1; answers each POST with the next of `answers`."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.answers: list[tuple[int, str]] = []  # (status, Location); empty: 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((self.path, dict(self.headers.items()), body))
                status, location = receiver.answers.pop(0) if receiver.answers else (200, "")
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                reply = b'{"thanks": true}'
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://{HOOK_HOST}:{self.port}/caredesk?x=1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def payloads(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, _, body in self.requests]

    def events(self) -> list[str]:
        return [p["event"] for p in self.payloads()]


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch, settings: Any) -> dict[str, str]:
    """Name resolution at the edge of the world: names in the dict resolve as it says."""
    answers = {HOOK_HOST: "127.0.0.1"}
    real = socket.getaddrinfo

    def fake(host: str, port: Any, *args: Any, **kw: Any) -> Any:
        if host in answers:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port))]
        return real(host, port, *args, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    # The receiver's name is allowed although it is loopback; 127.0.0.1 itself is not.
    settings.WEBHOOK_ALLOWED_HOSTS = [HOOK_HOST]
    return answers


@pytest.fixture
def receiver(dns: dict[str, str]) -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


@pytest.fixture(autouse=True)
def _clean_queue() -> Iterator[None]:
    public.forget()
    HUEY.flush()
    yield
    HUEY.flush()


def _subscribe(manager: User, api: Any, url: str, events: list[str]) -> dict[str, Any]:
    created = api(manager).post("/api/v1/webhooks", {"url": url, "events": events})
    assert created.status_code == 201, created.content
    return dict(created.json())


def _run_retry(expected_delay: int) -> None:
    """Run the one scheduled retry as the worker would once its time has come."""
    (task,) = HUEY.scheduled()
    assert task.retry_delay == expected_delay * 2, "the wait after this one doubles again"
    HUEY.storage.flush_schedule()
    HUEY.execute(task, timestamp=task.eta)


# --- the API --------------------------------------------------------------------------------


def test_managers_add_list_read_and_delete_webhooks(
    manager: User, rep: User, api: Any, dns: dict[str, str]
) -> None:
    hook = _subscribe(manager, api, "https://hooks.test/in", ["ticket.opened", "incident.created"])
    assert len(hook["secret"]) == 64 and hook["created_by"] == manager.email
    listed = api(manager).get("/api/v1/webhooks").json()
    assert [h["id"] for h in listed["items"]] == [hook["id"]] and listed["next"] is None
    assert "secret" not in listed["items"][0], "the secret is shown once, at creation"
    one = api(manager).get(f"/api/v1/webhooks/{hook['id']}").json()
    assert one["events"] == ["ticket.opened", "incident.created"] and one["deliveries"] == []

    assert (
        api(rep).post("/api/v1/webhooks", {"url": "https://x.test/", "events": []}).status_code
        == 403
    )
    assert api(rep).get("/api/v1/webhooks").status_code == 403
    assert api(rep).get(f"/api/v1/webhooks/{hook['id']}").status_code == 403

    deleted = api(manager).client.delete(
        f"/api/v1/webhooks/{hook['id']}", headers={"Authorization": f"Bearer {api(manager).token}"}
    )
    assert deleted.status_code == 204
    assert api(manager).get(f"/api/v1/webhooks/{hook['id']}").status_code == 404
    assert api(manager).get("/api/v1/webhooks").json()["items"] == []
    created, deleted_entry = AuditEntry.objects.filter(object_type="api.webhook").order_by("id")
    assert (created.action, created.actor, created.source) == ("created", manager, "api")
    assert created.changes["url"] == [None, "https://hooks.test/in"]
    assert created.changes["secret"][1].startswith("hidden:"), "the secret is not in the audit"
    assert deleted_entry.action == "deleted" and deleted_entry.changes["deleted_at"][0] is None


@pytest.mark.parametrize(
    ("events", "problem"),
    [
        (["ticket.exploded"], "Unknown event 'ticket.exploded'"),
        ([], "Choose at least one event"),
    ],
)
def test_bad_events_are_refused(
    manager: User, api: Any, dns: dict[str, str], events: list[str], problem: str
) -> None:
    response = api(manager).post(
        "/api/v1/webhooks", {"url": "https://hooks.test/", "events": events}
    )
    assert response.status_code == 422
    assert problem in response.json()["message"] and response.json()["field"] == "events"
    assert not Webhook.objects.exists()


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1:8000/hook", "a loopback address"),
        ("http://[::1]/hook", "a loopback address"),
        ("http://169.254.169.254/latest/meta-data/", "a link-local address"),
        ("http://10.1.2.3/hook", "a private address"),
    ],
)
def test_webhooks_into_our_network_are_refused(manager: User, api: Any, url: str, why: str) -> None:
    response = api(manager).post("/api/v1/webhooks", {"url": url, "events": ["ticket.opened"]})
    assert response.status_code == 422
    assert why in response.json()["message"] and response.json()["field"] == "url"
    assert not Webhook.objects.exists()


# --- deliveries -----------------------------------------------------------------------------


def test_every_ticket_event_is_delivered_signed(
    manager: User,
    rep: User,
    engineer: User,
    alice: User,
    api: Any,
    receiver: Receiver,
    commit: Callable[[], Any],
) -> None:
    hook = _subscribe(manager, api, receiver.url, ALL_TICKET_EVENTS)
    with time_machine.travel(TUESDAY_10, tick=False), commit():
        case = services.open_case(
            actor=rep, subject="Dialer down", channel="email", requester=alice
        )
    with commit():
        sla.sweep(at=TUESDAY_10 + timedelta(minutes=11))  # nobody answered within 10 minutes
    with commit():
        services.reply(case, actor=rep, body="Looking into it.")
        services.add_note(case, actor=rep, body="Internal: no webhook for notes.")
    with commit():
        tsup = services.escalate(case, actor=rep, to="technical-support", reason="dialer down")
    with commit():
        services.assign(tsup, actor=engineer, agent=engineer)
    with commit():
        services.set_priority(tsup, actor=engineer, priority="high")  # not a webhook event
        services.resolve(tsup, actor=engineer)

    assert receiver.events() == [
        "ticket.opened",
        "ticket.breached",
        "ticket.replied",
        "ticket.opened",  # the escalated TSUP ticket
        "ticket.escalated",
        "ticket.assigned",
        "ticket.resolved",
    ]
    payloads = receiver.payloads()
    assert payloads[0]["ticket"]["number"] == case.number
    assert payloads[0]["ticket"]["requester"] == alice.email
    assert payloads[1]["change"]["kind"] == "sla.breached"
    assert payloads[2]["message"]["body"] == "Looking into it."
    assert payloads[4]["change"]["data"]["ticket"] == tsup.number
    assert payloads[5]["ticket"]["assignee"] == engineer.email
    assert payloads[6]["ticket"]["status"] == "resolved"

    for path, headers, body in receiver.requests:
        assert path == "/caredesk?x=1"
        signed = headers["X-Caredesk-Timestamp"].encode() + b"." + body
        expected = hmac.new(hook["secret"].encode(), signed, hashlib.sha256).hexdigest()
        assert headers["X-Caredesk-Signature"] == f"sha256={expected}"
        assert headers["X-Caredesk-Event"] == json.loads(body)["event"]
        assert headers["Content-Type"] == "application/json"
        assert json.loads(body)["id"] == int(headers["X-Caredesk-Delivery"])
    # A receiver that checks the signature rejects a body changed on the way.
    path, headers, body = receiver.requests[0]
    forged = headers["X-Caredesk-Timestamp"].encode() + b"." + body.replace(b"Dialer", b"Dialler")
    assert (
        hmac.new(hook["secret"].encode(), forged, hashlib.sha256).hexdigest()
        not in (headers["X-Caredesk-Signature"])
    )

    log = api(manager).get(f"/api/v1/webhooks/{hook['id']}").json()["deliveries"]
    assert len(log) == 7 and all(d["delivered_at"] for d in log)
    attempt = log[0]["attempts"][0]
    assert attempt["status"] == 200 and attempt["response"] == '{"thanks": true}'
    assert attempt["duration_ms"] >= 0 and attempt["error"] == ""


def test_only_subscribed_events_are_sent_and_rollbacks_send_nothing(
    manager: User, rep: User, api: Any, receiver: Receiver, commit: Callable[[], Any]
) -> None:
    _subscribe(manager, api, receiver.url, ["ticket.resolved"])
    with commit():
        case = services.open_case(actor=rep, subject="Wrong invoice", channel="api")
        services.reply(case, actor=rep, body="Fixed.")
    with commit(), pytest.raises(RuntimeError), transaction.atomic():
        services.resolve(case, actor=rep)
        raise RuntimeError("rolled back")
    assert receiver.requests == []
    case.refresh_from_db()
    with commit():
        services.resolve(case, actor=rep)
    assert receiver.events() == ["ticket.resolved"]


def test_incident_events(
    manager: User, api: Any, receiver: Receiver, commit: Callable[[], Any]
) -> None:
    _subscribe(
        manager, api, receiver.url, ["incident.created", "incident.updated", "incident.resolved"]
    )
    with commit():
        incident = status.create_incident(actor=manager, name="Calls drop", body="Investigating.")
    with commit():
        status.update_incident(incident, actor=manager, status="identified", body="Found it.")
    with commit():
        status.update_incident(incident, actor=manager, status="resolved", body="Fixed.")
    assert receiver.events() == ["incident.created", "incident.updated", "incident.resolved"]
    last = receiver.payloads()[-1]["incident"]
    assert last["name"] == "Calls drop" and last["status"] == "resolved"


def test_a_failing_receiver_is_retried_with_backoff_until_it_answers(
    manager: User, rep: User, api: Any, receiver: Receiver, commit: Callable[[], Any]
) -> None:
    hook = _subscribe(manager, api, receiver.url, ["ticket.opened"])
    receiver.answers = [(500, ""), (503, "")]
    with commit():
        services.open_case(actor=rep, subject="Reports empty", channel="api")
    delivery = WebhookDelivery.objects.get()
    assert delivery.delivered_at is None and delivery.attempts == 1

    _run_retry(expected_delay=30)  # the first retry waits 30 s …
    assert WebhookDelivery.objects.get().delivered_at is None
    _run_retry(expected_delay=60)  # … the second 60 s, and then the receiver answers
    delivery.refresh_from_db()
    assert delivery.delivered_at is not None and delivery.attempts == 3
    assert HUEY.scheduled() == []
    bodies = {body for _, _, body in receiver.requests}
    assert len(receiver.requests) == 3 and len(bodies) == 1, "every attempt sends the same body"
    (logged,) = api(manager).get(f"/api/v1/webhooks/{hook['id']}").json()["deliveries"]
    assert [a["status"] for a in logged["attempts"]] == [500, 503, 200]
    assert "answered 500" in logged["attempts"][0]["error"]


def test_a_receiver_that_never_answers_well_is_given_up_after_the_last_retry(
    manager: User, rep: User, api: Any, receiver: Receiver, commit: Callable[[], Any]
) -> None:
    _subscribe(manager, api, receiver.url, ["ticket.opened"])
    receiver.answers = [(500, "")] * 20
    with commit():
        services.open_case(actor=rep, subject="Reports empty", channel="api")
    waits = []
    while scheduled := HUEY.scheduled():
        (task,) = scheduled
        waits.append(task.retry_delay // 2)  # the wait before this try
        HUEY.storage.flush_schedule()
        HUEY.execute(task, timestamp=task.eta)
    assert waits == [30 * 2**n for n in range(8)]
    delivery = WebhookDelivery.objects.get()
    assert delivery.attempts == 9 and len(receiver.requests) == 9
    assert delivery.failed_at is not None and delivery.delivered_at is None


def test_a_deleted_webhook_gets_no_more_retries(
    manager: User, rep: User, api: Any, receiver: Receiver, commit: Callable[[], Any]
) -> None:
    hook = _subscribe(manager, api, receiver.url, ["ticket.opened"])
    receiver.answers = [(503, "")]
    with commit():
        services.open_case(actor=rep, subject="Reports empty", channel="api")
    api(manager).client.delete(
        f"/api/v1/webhooks/{hook['id']}", headers={"Authorization": f"Bearer {api(manager).token}"}
    )
    (task,) = HUEY.scheduled()
    HUEY.storage.flush_schedule()
    HUEY.execute(task, timestamp=task.eta)
    assert len(receiver.requests) == 1 and HUEY.scheduled() == []


# --- the per-process subscriptions -------------------------------------------------------


def test_a_new_webhook_receives_the_very_next_event_and_a_deleted_one_nothing_more(
    manager: User, rep: User, api: Any, receiver: Receiver, commit: Callable[[], Any]
) -> None:
    with commit():  # read "no webhooks" into this process's cache
        case = services.open_case(actor=rep, subject="Reports empty", channel="api")
    hook = _subscribe(manager, api, receiver.url, ["ticket.replied"])
    with commit():  # no waiting for the cache to expire
        services.reply(case, actor=rep, body="Looking.")
    assert receiver.events() == ["ticket.replied"]

    api(manager).client.delete(
        f"/api/v1/webhooks/{hook['id']}", headers={"Authorization": f"Bearer {api(manager).token}"}
    )
    with commit():
        services.reply(case, actor=rep, body="Still looking.")
    assert WebhookDelivery.objects.count() == 1 and len(receiver.requests) == 1


def test_a_webhook_deleted_by_another_process_gets_no_delivery_queued(
    manager: User, rep: User, api: Any, receiver: Receiver, commit: Callable[[], Any]
) -> None:
    hook = _subscribe(manager, api, receiver.url, ["ticket.opened", "ticket.replied"])
    with commit():  # this process now holds the webhook for a couple of seconds
        case = services.open_case(actor=rep, subject="Reports empty", channel="api")
    # Another process deletes it: no signal, no forget() reaches this one.
    Webhook.objects.filter(pk=hook["id"]).update(deleted_at=TUESDAY_10)
    with commit():
        services.reply(case, actor=rep, body="Looking.")
    assert WebhookDelivery.objects.count() == 1 and receiver.events() == ["ticket.opened"]


def test_a_ticket_change_without_webhooks_no_longer_asks_for_them(
    rep: User, commit: Callable[[], Any]
) -> None:
    with commit():
        case = services.open_case(actor=rep, subject="Reports empty", channel="api")
        services.reply(case, actor=rep, body="First answer: the clock stops, caches warm.")

    def statements() -> list[str]:
        with CaptureQueriesContext(connection) as ctx, commit():
            services.reply(case, actor=rep, body="Looking.")
        return [q["sql"] for q in ctx.captured_queries]

    outgoing.forget_subscriptions()  # as every change did before: read the webhooks
    cold = statements()
    warm = statements()
    table = Webhook._meta.db_table
    assert len(warm) == len(cold) - 1
    assert [q for q in cold if table in q and "api_webhookdelivery" not in q]
    assert not [q for q in warm if table in q]


@pytest.mark.parametrize(
    ("target", "why"),
    [
        ("http://127.0.0.1:{port}/", "a loopback address"),
        ("http://[::1]:{port}/", "a loopback address"),
        ("http://169.254.169.254/latest/meta-data/", "a link-local address"),
    ],
)
def test_a_redirect_into_our_network_is_refused(
    manager: User,
    rep: User,
    api: Any,
    receiver: Receiver,
    commit: Callable[[], Any],
    target: str,
    why: str,
) -> None:
    hook = _subscribe(manager, api, receiver.url, ["ticket.opened"])
    receiver.answers = [(307, target.format(port=receiver.port))]
    with commit():
        services.open_case(actor=rep, subject="Reports empty", channel="api")
    assert len(receiver.requests) == 1, "the redirect target was never called"
    delivery = WebhookDelivery.objects.get()
    assert delivery.failed_at is not None and delivery.delivered_at is None
    (logged,) = api(manager).get(f"/api/v1/webhooks/{hook['id']}").json()["deliveries"]
    assert why in logged["attempts"][0]["error"]
    assert HUEY.scheduled() == [], "a refused address is not retried"


def test_a_redirect_to_an_allowed_host_is_followed(
    manager: User, rep: User, api: Any, receiver: Receiver, commit: Callable[[], Any]
) -> None:
    _subscribe(manager, api, receiver.url, ["ticket.opened"])
    receiver.answers = [(308, "/moved")]
    with commit():
        services.open_case(actor=rep, subject="Reports empty", channel="api")
    assert [path for path, _, _ in receiver.requests] == ["/caredesk?x=1", "/moved"]
    assert receiver.requests[0][2] == receiver.requests[1][2]
    assert WebhookDelivery.objects.get().delivered_at is not None


def test_a_name_that_resolves_inside_our_network_at_delivery_is_refused(
    manager: User, rep: User, api: Any, dns: dict[str, str], commit: Callable[[], Any]
) -> None:
    dns["rebind.example.com"] = "93.184.216.34"
    _subscribe(manager, api, "http://rebind.example.com/hook", ["ticket.opened"])
    dns["rebind.example.com"] = "169.254.169.254"  # DNS rebinding after the check
    with commit():
        services.open_case(actor=rep, subject="Reports empty", channel="api")
    delivery = WebhookDelivery.objects.get()
    assert delivery.failed_at is not None
    assert "link-local" in delivery.log.get().error
