"""Webhook transport shared by the status page and the outgoing ticket webhooks.

Where a URL may point: nowhere inside our own network (server-side request forgery).
Every address the host resolves to must be public unless the host is listed in
CAREDESK_WEBHOOK_ALLOWED_HOSTS. The check runs when a webhook is added and again at each
delivery, after resolving, and the request goes to the very address that was checked, so
a DNS answer that changes in between (rebinding) gains nothing. A redirect is followed
only when the caller allows it, and each hop is resolved and checked the same way.

How it is signed: `X-Caredesk-Timestamp` (Unix seconds) and
`X-Caredesk-Signature: sha256=<hex>`, the HMAC-SHA256 with the webhook's secret of
"<timestamp>." followed by the body; a receiver recomputes it and rejects old timestamps.

How it is retried: the worker's tasks take RETRY (exponential backoff, 30 s doubling).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from django.conf import settings

from caredesk.core.clock import now
from caredesk.core.errors import InvalidInput

TIMEOUT = 10
MAX_URL = 2000
EXCERPT = 500  # characters of a response body kept in a delivery log
# Huey task options for every webhook delivery: 8 more tries, waits of 30 s, 60 s, 120 s, …
RETRY = {"retries": 8, "retry_delay": 30, "retry_backoff": 2}
USER_AGENT = "caredesk-webhooks"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class Refused(InvalidInput):
    """A webhook URL that may not be called."""


class Undeliverable(Exception):
    """The receiver answered in a way a retry will not change (e.g. a redirect)."""


@dataclass(frozen=True)
class Response:
    url: str  # where the answer came from, after any redirects followed
    status: int
    excerpt: str
    location: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def redirect(self) -> bool:
        return 300 <= self.status < 400


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
    if len(url) > MAX_URL:
        raise Refused(f"The webhook URL is longer than {MAX_URL} characters.", field="url")
    _, host, port = _parts(url)
    resolve(host, port)
    return url


# --- signing ------------------------------------------------------------------------------


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def signed_headers(secret: str, body: bytes, **extra: str) -> dict[str, str]:
    """The headers of one delivery attempt: JSON, our user agent, timestamp and signature."""
    timestamp = str(int(now().timestamp()))
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Caredesk-Timestamp": timestamp,
        "X-Caredesk-Signature": signature(secret, timestamp, body),
        **extra,
    }


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


def _post_once(url: str, body: bytes, headers: dict[str, str]) -> Response:
    if len(url) > MAX_URL:
        raise Refused(f"The webhook URL is longer than {MAX_URL} characters.", field="url")
    scheme, host, port = _parts(url)
    address = resolve(host, port)[0]
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    cls = _PinnedHTTPS if scheme == "https" else _PinnedHTTP
    conn = cls(host, port, address, TIMEOUT)
    started = time.monotonic()
    try:
        conn.request("POST", target, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read(65536)
        status, location = response.status, response.getheader("Location") or ""
    finally:
        conn.close()
    return Response(
        url=url,
        status=status,
        excerpt=data[: EXCERPT * 4].decode("utf-8", errors="replace")[:EXCERPT],
        location=location,
        duration_ms=round((time.monotonic() - started) * 1000),
    )


def send(url: str, body: bytes, headers: dict[str, str], *, redirects: int = 0) -> Response:
    """POST the body; follow up to `redirects` 307/308 redirects, each hop checked anew.

    Answers the last response whatever its status; raises Refused for an address that may
    not be called (at any hop) and OSError when nothing answered.
    """
    response = _post_once(url, body, headers)
    hops = 0
    # Only 307 and 308 keep the method and body; a 301/302/303 would turn the POST into a GET.
    while response.status in (307, 308) and response.location and hops < redirects:
        hops += 1
        response = _post_once(urljoin(response.url, response.location), body, headers)
    return response


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST once, following no redirect; answers the status code of a 1xx/2xx answer.

    Raises Refused, Undeliverable (a redirect) or OSError (no answer, or a 4xx/5xx one, which
    a retry may cure).
    """
    response = send(url, body, headers)
    if response.redirect:
        raise Undeliverable(
            f"{url} answered {response.status}; webhook redirects are not followed."
        )
    if response.status >= 400:
        raise OSError(f"{url} answered {response.status}.")
    return response.status
