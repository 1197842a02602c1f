"""Webhook subscribers: where they may point, what they receive, and how it is signed.

A URL may not reach into our own network (server-side request forgery): every address
its host resolves to must be public, unless the host is listed in
CAREDESK_WEBHOOK_ALLOWED_HOSTS. The check runs when the subscriber is added and again at
each delivery, after resolving, and the request goes to the very address that was
checked, so a DNS answer that changes in between (rebinding) gains nothing. Redirects
are not followed.

Payloads have Statuspage's webhook shape ({"meta", "page", "incident"} or
{"meta", "page", "component_update", "component"}). Each carries
`X-Caredesk-Timestamp` (Unix seconds) and `X-Caredesk-Signature: sha256=<hex>`, the
HMAC-SHA256 with the subscriber's secret of "<timestamp>." followed by the body.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import socket
import ssl
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

from caredesk.core.clock import now
from caredesk.core.errors import InvalidInput
from caredesk.status import public
from caredesk.status.models import ComponentChange, Incident, Subscriber

TIMEOUT = 10
DOCUMENTATION = "https://support.atlassian.com/statuspage/docs/enable-webhook-notifications/"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class Refused(InvalidInput):
    """A webhook URL that may not be called."""


class Undeliverable(Exception):
    """The receiver answered in a way a retry will not change (e.g. a redirect)."""


def _allowed(host: str) -> bool:
    listed = {h.strip().strip("[]").lower() for h in settings.WEBHOOK_ALLOWED_HOSTS}
    return host.lower() in listed


def _why_not(ip: IPAddress) -> str | None:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    # Order matters: 127.0.0.1 and 169.254.x.x also count as "private" to ipaddress.
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_private:
        return "a private address"
    if ip.is_multicast or ip.is_reserved:
        return "a reserved address"
    return None


def _parts(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused(
            "A webhook URL starts with http:// or https:// and names a host.", field="url"
        )
    if parts.username or parts.password:
        raise Refused("A webhook URL may not carry a user name or password.", field="url")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise Refused("The webhook URL's port is not a number.", field="url") from None
    return parts.scheme, parts.hostname, port


def resolve(host: str, port: int) -> list[IPAddress]:
    """The host's addresses, each of them public unless the host is allowed."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise Refused(f"The webhook host {host} does not resolve.", field="url") from None
    addresses: list[IPAddress] = []
    for info in infos:
        ip = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if ip not in addresses:
            addresses.append(ip)
    if _allowed(host):
        return addresses
    for ip in addresses:
        why = _why_not(ip)
        if why:
            raise Refused(
                f"The webhook URL's host {host} resolves to {ip}, {why}; webhooks may only "
                "call public addresses (an administrator can allow a host with "
                "CAREDESK_WEBHOOK_ALLOWED_HOSTS).",
                field="url",
            )
    return addresses


def check_url(url: str) -> str:
    if len(url) > 2000:
        raise Refused("The webhook URL is longer than 2000 characters.", field="url")
    _, host, port = _parts(url)
    resolve(host, port)
    return url


# --- payloads -----------------------------------------------------------------------------


def _head(page: public.Page, subscriber: Subscriber) -> dict[str, Any]:
    from caredesk.status.subscriptions import unsubscribe_url

    status = page.status()
    return {
        "meta": {
            "unsubscribe": unsubscribe_url(subscriber),
            "documentation": DOCUMENTATION,
            "generated_at": public.iso(now()),
        },
        "page": {
            "id": page.id,
            "status_indicator": status.indicator,
            "status_description": status.description,
        },
    }


def incident_payload(incident: Incident, subscriber: Subscriber) -> dict[str, Any]:
    page = public.Page()
    fresh = page.incidents(incident.kind).get(pk=incident.pk)
    return {**_head(page, subscriber), "incident": page.incident(fresh)}


def component_payload(change: ComponentChange, subscriber: Subscriber) -> dict[str, Any]:
    page = public.Page()
    component = change.component
    return {
        **_head(page, subscriber),
        "component_update": {
            "created_at": public.iso(change.at),
            "new_status": change.status,
            "old_status": change.old_status,
            "id": str(change.pk),
            "component_id": str(component.pk),
        },
        "component": {
            "created_at": public.iso(component.created_at),
            "id": str(component.pk),
            "name": component.name,
            "status": component.status,
            "environment": component.environment_id,
            "version": component.version or None,
        },
    }


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


# --- delivery -----------------------------------------------------------------------------


class _PinnedHTTP(http.client.HTTPConnection):
    """Connects to the address that was checked, whatever DNS says now."""

    def __init__(self, host: str, port: int, address: IPAddress, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((str(self.address), self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: IPAddress, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self) -> None:
        sock = socket.create_connection((str(self.address), self.port), self.timeout)
        # The certificate is still checked against the host name (SNI and verification).
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST once; answers the status code, raises Refused, Undeliverable or OSError."""
    scheme, host, port = _parts(url)
    address = resolve(host, port)[0]
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    cls = _PinnedHTTPS if scheme == "https" else _PinnedHTTP
    conn = cls(host, port, address, TIMEOUT)
    try:
        conn.request("POST", target, body=body, headers=headers)
        response = conn.getresponse()
        response.read(65536)
        status = response.status
    finally:
        conn.close()
    if 300 <= status < 400:
        raise Undeliverable(f"{url} answered {status}; webhook redirects are not followed.")
    if status >= 400:
        raise OSError(f"{url} answered {status}.")
    return status
