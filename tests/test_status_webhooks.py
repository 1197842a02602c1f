"""Webhook subscribers: a real HTTP receiver on loopback, signatures, retries, SSRF refusals."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from huey.contrib.djhuey import HUEY

from caredesk.core.errors import DomainError
from caredesk.people.models import User
from caredesk.status import public, services, subscriptions, tasks, webhooks
from caredesk.status.models import Component, Delivery, Subscriber


class Receiver:
    """An HTTP server thread on 127.0.0.1 that records each POST and answers `status`."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.status = 200
        self.location = ""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers.items()), body))
                self.send_response(receiver.status)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/status?x=1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def payloads(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.requests]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
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


@pytest.fixture
def allow_loopback(settings: Any) -> None:
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]


def comp(env: str, name: str) -> Component:
    return Component.objects.get(environment_id=env, name=name)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1:9/hook", "a loopback address"),
        ("http://[::1]/hook", "a loopback address"),
        ("http://169.254.169.254/latest/meta-data/", "a link-local address"),
        ("http://10.0.0.1/hook", "a private address"),
        ("http://0.0.0.0/hook", "an unspecified address"),
        ("http://[::ffff:127.0.0.1]/hook", "a loopback address"),
    ],
)
def test_urls_inside_our_network_are_refused(manager: User, url: str, why: str) -> None:
    with pytest.raises(DomainError, match=why) as caught:
        subscriptions.add_webhook(actor=manager, url=url)
    assert "CAREDESK_WEBHOOK_ALLOWED_HOSTS" in caught.value.message
    assert not Subscriber.objects.exists()


@pytest.mark.parametrize(
    "url", ["ftp://example.com/x", "http:///nohost", "https://user:pw@example.com/", "not a url"]
)
def test_malformed_urls_are_refused(manager: User, url: str) -> None:
    with pytest.raises(DomainError):
        subscriptions.add_webhook(actor=manager, url=url)


def test_the_api_refuses_a_loopback_webhook_with_a_clear_error(manager: User, api: Any) -> None:
    response = api(manager).post("/api/v1/status/subscribers", {"url": "http://127.0.0.1/x"})
    assert response.status_code == 422
    assert "loopback" in response.json()["message"] and response.json()["field"] == "url"


def test_a_signed_statuspage_payload_for_each_incident_update(
    manager: User, api: Any, receiver: Receiver, allow_loopback: None, commit: Callable[[], Any]
) -> None:
    created = api(manager).post(
        "/api/v1/status/subscribers", {"url": receiver.url, "environments": ["NA3"]}
    )
    assert created.status_code == 201, created.content
    secret = created.json()["secret"]
    api_component = comp("NA3", "API")
    with commit():
        incident = services.create_incident(
            actor=manager,
            name="API errors",
            body="Investigating.",
            components={api_component.pk: "major_outage"},
        )
    with commit():
        services.update_incident(incident, actor=manager, status="resolved", body="Fixed.")
    assert len(receiver.requests) == 2
    headers, body = receiver.requests[0]
    expected = hmac.new(
        secret.encode(), headers["X-Caredesk-Timestamp"].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    assert headers["X-Caredesk-Signature"] == "sha256=" + expected
    assert headers["Content-Type"] == "application/json"
    first, last = receiver.payloads()
    assert set(first) == {"meta", "page", "incident"}
    assert set(first["meta"]) == {"unsubscribe", "documentation", "generated_at"}
    assert first["page"]["status_indicator"] == "critical"
    assert first["incident"]["status"] == "investigating"
    assert first["incident"]["components"][0]["id"] == str(api_component.pk)
    assert last["incident"]["status"] == "resolved"
    assert [u["status"] for u in last["incident"]["incident_updates"]] == [
        "resolved",
        "investigating",
    ]


def test_a_component_update_payload(
    manager: User, receiver: Receiver, allow_loopback: None, commit: Callable[[], Any]
) -> None:
    api_component = comp("NA3", "API")
    subscriptions.add_webhook(actor=manager, url=receiver.url, components=[api_component.pk])
    with commit():
        services.set_component(api_component, actor=manager, status="degraded_performance")
        services.set_component(comp("NA4", "API"), actor=manager, status="major_outage")
        services.set_component(api_component, actor=manager, version="12.1")  # no status change
    (payload,) = receiver.payloads()
    assert payload["component_update"]["old_status"] == "operational"
    assert payload["component_update"]["new_status"] == "degraded_performance"
    assert payload["component"]["id"] == str(api_component.pk)
    assert payload["component"]["environment"] == "NA3"


def test_the_check_runs_again_at_delivery(
    manager: User, receiver: Receiver, settings: Any, commit: Callable[[], Any]
) -> None:
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    subscriber = subscriptions.add_webhook(actor=manager, url=receiver.url)
    settings.WEBHOOK_ALLOWED_HOSTS = []
    with commit():
        services.create_incident(actor=manager, name="Calls drop", body="Looking into it.")
    assert receiver.requests == []
    delivery = Delivery.objects.get(subscriber=subscriber)
    assert delivery.sent_at is None and "loopback" in delivery.last_error
    assert HUEY.scheduled() == [], "a refused address is not retried"


def test_a_name_that_resolves_elsewhere_at_delivery_is_refused(
    manager: User, monkeypatch: pytest.MonkeyPatch, commit: Callable[[], Any]
) -> None:
    answers = {"hooks.example.com": "93.184.216.34"}
    real = socket.getaddrinfo

    def fake(host: str, port: Any, *args: Any, **kw: Any) -> Any:
        if host in answers:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port))]
        return real(host, port, *args, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    subscriber = subscriptions.add_webhook(actor=manager, url="http://hooks.example.com/x")
    answers["hooks.example.com"] = "169.254.169.254"  # DNS rebinding
    with commit():
        services.create_incident(actor=manager, name="Calls drop", body="Looking into it.")
    assert "link-local" in Delivery.objects.get(subscriber=subscriber).last_error


def test_a_failing_receiver_is_retried_with_backoff(
    manager: User, receiver: Receiver, allow_loopback: None, commit: Callable[[], Any]
) -> None:
    subscriber = subscriptions.add_webhook(actor=manager, url=receiver.url)
    receiver.status = 503
    with commit():
        incident = services.create_incident(actor=manager, name="Calls drop", body="Looking.")
    delivery = Delivery.objects.get(subscriber=subscriber)
    assert delivery.sent_at is None and "503" in delivery.last_error
    (retry,) = HUEY.scheduled()
    assert retry.retries == 7 and retry.retry_delay == 60, "the next wait doubles"

    receiver.status = 204
    tasks.post_update.call_local(subscriber.pk, incident.updates.get().pk)
    tasks.post_update.call_local(subscriber.pk, incident.updates.get().pk)
    delivery.refresh_from_db()
    assert delivery.sent_at is not None and delivery.attempts == 2
    assert len(receiver.requests) == 2  # the failed one and the retry; no duplicate after


def test_redirects_are_not_followed(
    manager: User, receiver: Receiver, allow_loopback: None, commit: Callable[[], Any]
) -> None:
    subscriber = subscriptions.add_webhook(actor=manager, url=receiver.url)
    receiver.status, receiver.location = 302, "http://169.254.169.254/latest/meta-data/"
    with commit():
        services.create_incident(actor=manager, name="Calls drop", body="Looking.")
    assert len(receiver.requests) == 1
    assert "redirects are not followed" in Delivery.objects.get(subscriber=subscriber).last_error
    assert HUEY.scheduled() == []


def test_only_managers_add_webhooks(rep: User) -> None:
    with pytest.raises(DomainError, match="Only managers"):
        subscriptions.add_webhook(actor=rep, url="https://hooks.example.com/")


def test_signature_helper_matches_the_documented_scheme() -> None:
    assert webhooks.signature("k", "1", b"{}") == "sha256=" + (
        hmac.new(b"k", b"1.{}", hashlib.sha256).hexdigest()
    )
