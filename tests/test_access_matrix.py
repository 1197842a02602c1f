"""Who may reach what: every page, htmx partial, export, attachment download and API operation,
taken from the URL configuration and the OpenAPI document, for every role and for objects of
the customer's own and of another organization.

The expected outcome of each endpoint comes from POLICY below. A new endpoint that is not in
POLICY fails `test_every_endpoint_has_a_policy`: add it there, with the rule that says who
may use it. Customers meet another organization's objects as 404, never 403; anonymous
visitors are led to the sign-in form (pages) or answered 401 (API); a revoked token and a
deactivated user are treated as anonymous at once.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from mail_helpers import eml

from caredesk.api.api import api
from caredesk.api.outgoing import create_webhook
from caredesk.core import health
from caredesk.mail.intake import ingest
from caredesk.people import services as people
from caredesk.people.models import Organization, User
from caredesk.phone.cti import CtiEvent
from caredesk.phone.services import receive
from caredesk.status import services as status_services
from caredesk.status import subscriptions
from caredesk.status.models import Component
from caredesk.tickets import services
from caredesk.tickets.work_orders import draft_work_order, move_work_order

pytestmark = pytest.mark.django_db

OK, LOGIN = "ok", "login"
ROLES = ["representative", "engineer", "coordinator", "emergency", "manager", "admin", "customer"]
# Who asks: every role, nobody, and two who lost their access.
WHO = [*ROLES, "anonymous", "revoked", "deactivated"]
ORGS = ["own", "other"]


@dataclass(frozen=True)
class Rule:
    """The outcome for each kind of user: OK, LOGIN (sign-in redirect or 401), 403 or 404.
    `own` and `other` are a customer's outcomes for objects of their own and of another
    organization; `managers` (manager and admin) default to the agents' outcome."""

    agents: object = OK
    own: object = OK
    other: object = 404
    anonymous: object = LOGIN
    managers: object | None = None
    admin: object | None = None

    def expected(self, who: str, org: str) -> object:
        if who in ("anonymous", "revoked", "deactivated"):
            return self.anonymous
        if who == "customer":
            return self.own if org == "own" else self.other
        if who == "admin" and self.admin is not None:
            return self.admin
        if who in ("manager", "admin") and self.managers is not None:
            return self.managers
        return self.agents


PUBLIC = Rule(own=OK, other=OK, anonymous=OK)
SIGNED_IN = Rule(own=OK, other=OK)
CUSTOMER_DATA = Rule()  # a ticket, message or attachment: the customer's organization only
AGENTS = Rule(own=404, other=404)  # agent pages and data: customers meet a 404
AGENT_ACTION = Rule(own=403, other=404)  # on a ticket the customer sees, but for agents only
MANAGERS = Rule(agents=403, managers=OK, own=403, other=403)
ADMIN_MODEL = Rule(agents=LOGIN, managers=403, admin=OK, own=LOGIN, other=LOGIN)
ADMIN_PAGE = Rule(agents=LOGIN, managers=OK, own=LOGIN, other=LOGIN)
ADMIN_READ_ONLY = Rule(agents=LOGIN, managers=403, admin=403, own=LOGIN, other=LOGIN)
MANAGER_PAGE = Rule(agents=404, managers=OK, own=404, other=404)  # others never learn of it
MANAGER_FORM = Rule(agents=403, managers=OK, own=404, other=404)  # agents see, may not use
PATH_TOKEN = Rule(agents=LOGIN, own=LOGIN, other=LOGIN)  # only the token in the path counts
SIGNED_LINK = Rule(agents=400, own=400, other=400, anonymous=400)  # the matrix's link is bad
ADMIN_OR_OWNER = Rule(agents=404, managers=404, admin=OK, own=404, other=404)  # the admin's token

POLICY: dict[str, Rule] = {
    # --- pages (Django URL names) ---
    "portal:home": PUBLIC,
    "portal:signin": PUBLIC,
    "portal:signout": PUBLIC,
    "portal:password_reset": PUBLIC,
    "portal:password_reset_sent": PUBLIC,
    "portal:password_reset_confirm": PUBLIC,
    "portal:password_reset_complete": PUBLIC,
    "portal:requests": SIGNED_IN,
    "portal:request": CUSTOMER_DATA,
    "portal:attachment": CUSTOMER_DATA,
    "desk:queue": AGENTS,
    "desk:new": AGENTS,
    "desk:reports": AGENTS,
    "desk:presence": AGENTS,
    "desk:coverage": AGENTS,
    "desk:notifications": AGENTS,
    "desk:ticket": AGENTS,
    "desk:act": AGENTS,
    "status:*": PUBLIC,
    "/healthz": PUBLIC,
    "/readyz": PUBLIC,
    "/metrics": PUBLIC,
    "servicemodel-summary": ADMIN_PAGE,
    "admin:index": ADMIN_PAGE,
    "admin:login": PUBLIC,
    "admin:logout": PUBLIC,
    "admin:password_change": ADMIN_PAGE,
    "admin:password_change_done": ADMIN_PAGE,
    "admin:jsi18n": ADMIN_PAGE,
    # No model admin offers autocompletion, so every query is refused, even an admin's.
    "admin:autocomplete": Rule(agents=LOGIN, managers=403, own=LOGIN, other=LOGIN),
    # Login attempts are recorded by axes, never added by hand.
    "admin:axes_*_add": Rule(agents=LOGIN, managers=403, own=LOGIN, other=LOGIN),
    # Logs and trails are written by caredesk only: nobody adds an entry by hand.
    "admin:core_auditentry_add": ADMIN_READ_ONLY,
    "admin:mail_inboundemail_add": ADMIN_READ_ONLY,
    "admin:mail_outboundmail_add": ADMIN_READ_ONLY,
    "admin:api_webhook_add": ADMIN_READ_ONLY,
    "admin:api_webhookdelivery_add": ADMIN_READ_ONLY,
    "admin:*_changelist": ADMIN_MODEL,
    "admin:*_add": ADMIN_MODEL,
    "api:openapi-json": PUBLIC,
    "api:openapi-view": PUBLIC,
    # --- the REST API (method and OpenAPI path) ---
    "GET /api/v1/tickets": SIGNED_IN,
    "POST /api/v1/tickets": SIGNED_IN,
    "GET /api/v1/tickets/{number}": CUSTOMER_DATA,
    "GET /api/v1/tickets/{number}/messages": CUSTOMER_DATA,
    "GET /api/v1/attachments/{attachment_id}": CUSTOMER_DATA,
    "POST /api/v1/tickets/{number}/replies": CUSTOMER_DATA,
    "POST /api/v1/tickets/{number}/notes": AGENT_ACTION,
    "POST /api/v1/tickets/{number}/escalate": AGENT_ACTION,
    "GET /api/v1/tickets/{number}/triage": Rule(own=404, other=404),
    "POST /api/v1/tickets/{number}/assign": AGENT_ACTION,
    "POST /api/v1/tickets/{number}/priority": AGENT_ACTION,
    "POST /api/v1/tickets/{number}/status": AGENT_ACTION,
    "GET /api/v1/tickets/{number}/work-order": CUSTOMER_DATA,
    # Customers approve or decline their work orders.
    "POST /api/v1/tickets/{number}/work-order": CUSTOMER_DATA,
    "GET /api/v1/tickets/{number}/events": Rule(own=404, other=404),
    "GET /api/v1/status/components": MANAGERS,
    "POST /api/v1/status/components/{component_id}": MANAGERS,
    "POST /api/v1/status/environments/{environment}/components/{name}": MANAGERS,
    "POST /api/v1/status/incidents": MANAGERS,
    "GET /api/v1/status/incidents/{incident_id}": MANAGERS,
    "POST /api/v1/status/incidents/{incident_id}/updates": MANAGERS,
    "POST /api/v1/status/maintenances": MANAGERS,
    "GET /api/v1/status/maintenances/{maintenance_id}": MANAGERS,
    "POST /api/v1/status/maintenances/{maintenance_id}/updates": MANAGERS,
    "GET /api/v1/status/subscribers": MANAGERS,
    "POST /api/v1/status/subscribers": MANAGERS,
    "POST /api/v1/status/subscribers/{subscriber_id}/unsubscribe": MANAGERS,
    # Agent-only status features answer customers 403: they name no customer's object.
    "GET /api/v1/status/incidents/{incident_id}/tickets": Rule(own=403, other=403),
    "POST /api/v1/status/incidents/{incident_id}/tickets": Rule(own=403, other=403),
    "POST /api/v1/status/incidents/{incident_id}/tickets/{number}/unlink": Rule(own=403, other=403),
    "GET /api/v1/sla/due": SIGNED_IN,
    "GET /api/v1/calls": AGENTS,
    "GET /api/v1/calls/service-level": AGENTS,
    "GET /api/v1/calls/service-level.csv": AGENTS,
    "POST /api/v1/calls/{call_id}/attach": AGENTS,
    "GET /api/v1/tickets/{number}/copies": AGENTS,
    "POST /api/v1/tickets/{number}/copies": AGENTS,
    "DELETE /api/v1/tickets/{number}/copies/{email}": AGENTS,
    "POST /api/v1/cti/{token}": PATH_TOKEN,
    "POST /api/v1/inbound/email": SIGNED_IN,
    "GET /api/v1/webhooks": MANAGERS,
    "POST /api/v1/webhooks": MANAGERS,
    "GET /api/v1/webhooks/{webhook_id}": MANAGERS,
    "DELETE /api/v1/webhooks/{webhook_id}": MANAGERS,
    "desk:bulk": AGENTS,
    "desk:call-attach": AGENTS,
    "desk:call-dismiss": AGENTS,
    "desk:call-popup": AGENTS,
    "desk:callers": AGENTS,
    "desk:dashboard": MANAGER_PAGE,
    "desk:status:new-incident": MANAGER_FORM,
    "desk:status:new-maintenance": MANAGER_FORM,
    "desk:status:update": MANAGER_FORM,
    "desk:tokens": AGENTS,
    "desk:new-token": AGENTS,
    "desk:revoke-token": ADMIN_OR_OWNER,
    "desk:wallboard": AGENTS,
    "desk:mail:original": AGENTS,  # one email as received, its headers and its bytes
    "desk:mail:download": AGENTS,
    "desk:status:*": AGENTS,
    "portal:magic_link": PUBLIC,
    "portal:magic_link_sent": PUBLIC,
    "portal:magic_link_use": SIGNED_LINK,
    "GET /api/v1/reports/sla": AGENTS,
    "GET /api/v1/reports/sla.csv": AGENTS,
}

# Requests that need more than the URL: method, form or JSON body, query, extra variants.
PAGE_REQUESTS: dict[str, list[dict[str, Any]]] = {
    "portal:signout": [{"method": "post"}],
    "admin:logout": [{"method": "post"}],
    "GET /api/v1/sla/due": [{"query": {"target": "first_response"}}],
    "desk:presence": [{"method": "post", "data": {"status": "available"}}],
    "desk:act": [{"method": "post", "data": {"body": "A note"}}],
    "desk:queue": [{}, {"htmx": True}, {"query": {"q": "dialer"}}],
    "desk:coverage": [{"htmx": True}],
    "desk:ticket": [{}, {"htmx": True}],
    "desk:reports": [{}, {"query": {"format": "csv"}}],
    "portal:request": [{}, {"method": "post", "data": {"body": "Any news?"}}],
    "portal:home": [{}, {"method": "post", "data": {"subject": "x", "description": "y"}}],
    "status:subscribe": [{}],
    "desk:bulk": [{"method": "post", "data": {"action": "status", "status": "open"}}],
    "desk:new-token": [{"method": "post", "data": {"name": "matrix", "scope": "read"}}],
    "desk:revoke-token": [{"method": "post"}],
    "desk:call-attach": [{"method": "post", "data": {"ticket": "CASE-100"}}],
    "desk:call-dismiss": [{"method": "post"}],
    "desk:status:component": [{"method": "post", "data": {"status": "operational"}}],
    "desk:status:link": [{"method": "post"}],
    "desk:status:link-ticket": [{"method": "post"}],
    "desk:status:unlink": [{"method": "post"}],
    "desk:status:update": [{"method": "post", "data": {"status": "identified", "body": "b"}}],
    "desk:status:resolve-linked": [{"method": "post"}],
    "admin:autocomplete": [
        {"query": {"app_label": "people", "model_name": "user", "field_name": "x"}}
    ],
}
API_BODIES: dict[str, dict[str, Any]] = {
    "POST /api/v1/tickets": {"subject": "Matrix"},
    "POST /api/v1/tickets/{number}/escalate": {"to": "technical-support", "reason": "Outage"},
    "POST /api/v1/tickets/{number}/assign": {"agent": "representative@caredesk.test"},
    "POST /api/v1/tickets/{number}/priority": {"priority": "high"},
    "POST /api/v1/tickets/{number}/status": {"status": "waiting_on_customer"},
    "POST /api/v1/tickets/{number}/work-order": {"action": "approve"},
    "POST /api/v1/status/components/{component_id}": {"status": "degraded_performance"},
    "POST /api/v1/status/environments/{environment}/components/{name}": {"version": "12.1"},
    "POST /api/v1/status/incidents": {"name": "Slow", "body": "Looking"},
    "POST /api/v1/status/incidents/{incident_id}/updates": {"status": "identified", "body": "b"},
    "POST /api/v1/status/maintenances": {
        "name": "Upgrade",
        "body": "b",
        "scheduled_for": "2030-01-01T10:00:00Z",
        "scheduled_until": "2030-01-01T11:00:00Z",
        "components": [],
    },
    "POST /api/v1/status/maintenances/{maintenance_id}/updates": {"status": "in_progress"},
    "POST /api/v1/status/subscribers": {"url": "http://127.0.0.1:9/x"},
    "POST /api/v1/status/incidents/{incident_id}/tickets": {"ticket": "{number}"},
    "POST /api/v1/calls/{call_id}/attach": {"ticket": "{number}"},
    "POST /api/v1/tickets/{number}/copies": {"email": "erin@partner.test"},
}


@functools.cache
def openapi() -> dict[str, Any]:
    return api.get_openapi_schema()


def policy_for(key: str) -> Rule | None:
    if key in POLICY:
        return POLICY[key]
    for pattern, rule in POLICY.items():
        if "*" in pattern and fnmatch.fnmatchcase(key, pattern):
            return rule
    return None


# --- the endpoints, from the URL configuration and the OpenAPI document ------------------


@dataclass(frozen=True)
class Endpoint:
    key: str  # the policy key: a URL name, or "METHOD /api/v1/path"
    route: str  # the path, with {name} for each parameter
    params: tuple[str, ...]
    api: bool = False
    method: str = "get"


def _walk(patterns: list[Any], prefix: str = "", ns: str = "") -> Iterator[tuple[str, str]]:
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(
                p.url_patterns, prefix + str(p.pattern), ns + f"{p.namespace}:" * bool(p.namespace)
            )
        elif isinstance(p, URLPattern):
            yield ns + (p.name or ""), prefix + str(p.pattern)


def _route(pattern: str) -> str | None:
    """A Django route as a path with {name} parameters; None for regex routes (the admin's
    per-object pages, whose URLs take an object id)."""
    if pattern.startswith("^") or "(?P" in pattern:
        return None
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", pattern)


def endpoints() -> list[Endpoint]:
    found = []
    for name, pattern in _walk(get_resolver().url_patterns):
        route = _route(pattern)
        if route is None or (name.startswith("api:") and name not in POLICY):
            continue  # API operations come from the OpenAPI document below
        name = name or route
        if name.startswith("admin:") and "{" in route:
            continue  # per-object admin pages
        found.append(Endpoint(name, route, tuple(re.findall(r"{(\w+)}", route))))
    for path, operations in openapi()["paths"].items():
        for method in operations:
            found.append(
                Endpoint(
                    f"{method.upper()} {path}",
                    path,
                    tuple(re.findall(r"{(\w+)}", path)),
                    api=True,
                    method=method,
                )
            )
    return found


ENDPOINTS = endpoints()


def test_every_endpoint_has_a_policy() -> None:
    missing = sorted({e.key for e in ENDPOINTS if policy_for(e.key) is None})
    assert not missing, (
        f"No access policy for {missing}. Add each to POLICY in tests/test_access_matrix.py "
        "with the rule saying who may use it (PUBLIC, SIGNED_IN, CUSTOMER_DATA, AGENTS, "
        "AGENT_ACTION, MANAGERS or a Rule of its own), so the matrix checks it for every role."
    )
    keys = {e.key for e in ENDPOINTS}
    stale = [k for k in POLICY if "*" not in k and k not in keys]
    assert not stale, f"POLICY names endpoints that no longer exist: {stale}"


# --- the world: two organizations with tickets, messages, attachments ---------------------


@dataclass
class World:
    users: dict[str, User]
    tokens: dict[str, str]
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    shared: dict[str, Any] = field(default_factory=dict)


def _org_objects(rep: User, customer: User, name: str) -> dict[str, Any]:
    case = services.open_case(actor=customer, subject=f"{name} dialer down", channel="portal")
    reply = services.reply(
        case,
        actor=rep,
        body="Looking",
        attachments=[SimpleUploadedFile("log.txt", b"dialer log", content_type="text/plain")],
    )
    services.add_note(case, actor=rep, body="Internal")
    pc = services.escalate(
        case, actor=rep, to="project-coordination", reason="Change", category="platform-change"
    )
    draft_work_order(pc, actor=rep, scope="Change the caller ID")
    move_work_order(pc, actor=rep, action="send")
    return {"case": case, "pc": pc, "attachment": reply.attachments.get()}


@pytest.fixture
def world(model: None, settings: Any) -> World:
    # Webhook subscribers point at loopback in tests: nothing is ever delivered there.
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    users = {}
    for role in ROLES:
        if role == "customer":
            continue
        users[role] = people.add_user(f"{role}@caredesk.test", role=role, password="pw-matrix-1")
    people.get_or_create_organization("Acme", domains=["acme.test"])
    people.get_or_create_organization("Globex", domains=["globex.test"])
    users["customer"] = people.add_user("alice@acme.test", role="customer", org="acme")
    gina = people.add_user("gina@globex.test", role="customer", org="globex")
    users["revoked"] = people.add_user("gone@caredesk.test", role="representative")
    users["deactivated"] = people.add_user("left@caredesk.test", role="representative")
    tokens = {who: people.create_token(user)[1] for who, user in users.items()}
    people.revoke_token(people.token_user(tokens["revoked"]))  # type: ignore[arg-type]
    world = World(users=users, tokens=tokens)
    world.objects["own"] = _org_objects(users["representative"], users["customer"], "Acme")
    world.objects["other"] = _org_objects(users["representative"], gina, "Globex")
    comp = Component.objects.get(environment_id="NA3", name="API")
    incident = status_services.create_incident(
        actor=users["manager"], name="NA3 errors", body="Investigating.", components={}
    )
    maintenance = status_services.schedule_maintenance(
        actor=users["manager"],
        name="Upgrade",
        body="b",
        scheduled_for=incident.created_at.replace(year=2030),
        scheduled_until=incident.created_at.replace(year=2030, hour=23),
        components=[comp.pk],
    )
    subscriber = subscriptions.subscribe(actor=None, email="sub@example.com")
    outgoing = create_webhook(
        actor=users["manager"], url="http://127.0.0.1:9/out", events=["ticket.opened"]
    )
    rep = users["representative"]
    for event in ("newCall", "answer"):
        receive(
            CtiEvent(event=event, call_id="matrix-1", direction="in", from_number="+12125550100",
                     to_number="+18005550100", users=[rep.email]),
            actor=users["admin"],
        )  # fmt: skip
    admins_token = people.create_token(users["admin"], name="matrix")[0]
    hook = subscriptions.add_webhook(actor=users["manager"], url="http://127.0.0.1:9/h")
    world.shared = {
        "component_id": comp.pk,
        "environment": "NA3",
        "name": "API",
        "incident_id": incident.pk,
        "maintenance_id": maintenance.pk,
        "subscriber_id": hook.pk,
        "key": "NA3",
        "signed": subscriptions.link_token(subscriber),
        "confirm": signing.dumps(subscriber.token, salt=subscriptions.CONFIRM_SALT),
        "uidb64": "MQ",
        "token": "set-password",
        "action": "note",
        "webhook_id": outgoing.pk,
        "call_id": "matrix-1",
        "token_id": admins_token.pk,
        "email": "erin@partner.test",
        "email_id": ingest(eml(sender="alice@acme.test"), source="smtp").inbound_id,
    }
    health.beat()  # a worker is up: /readyz answers 200
    User.objects.filter(pk=users["deactivated"].pk).update(is_active=False)
    Organization.objects.update()  # nothing else: sharing stays on (the default)
    return world


def _value(world: World, endpoint: Endpoint, name: str, org: str) -> str:
    objs = world.objects[org]
    if name == "number":
        return objs["pc" if "work-order" in endpoint.route else "case"].number
    if name == "attachment_id" or (name == "pk" and endpoint.key == "portal:attachment"):
        return str(objs["attachment"].pk)
    if name == "pk" and endpoint.key == "desk:status:component":
        return str(world.shared["component_id"])
    if name == "pk":
        return str(world.shared["incident_id"])
    if name == "signed" and endpoint.key == "status:confirm":
        return str(world.shared["confirm"])
    return str(world.shared[name])


def _body(endpoint: Endpoint, number: str) -> dict[str, Any]:
    if endpoint.key in API_BODIES:
        body = API_BODIES[endpoint.key]
        return {k: number if v == "{number}" else v for k, v in body.items()}
    operation = openapi()["paths"][endpoint.route][endpoint.method]
    content = operation.get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema", {})
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        schema = openapi()["components"]["schemas"][name]
    samples = {"string": "A note", "integer": 1, "number": 1, "boolean": True, "array": []}
    return {
        prop: samples.get(spec.get("type", "string"), "x")
        for prop, spec in schema.get("properties", {}).items()
        if prop in schema.get("required", [])
    }


def _outcome(response: Any, endpoint: Endpoint, method: str) -> object:
    code = response.status_code
    if endpoint.api and code == 401:
        return LOGIN
    if code in (301, 302, 303):
        location = response.headers.get("Location", "")
        if location.startswith((reverse("portal:signin"), reverse("admin:login"))) and (
            "next=" in location
        ):
            return LOGIN
        return OK
    if code in (403, 404):
        return code
    if code < 300 or (method in ("post", "delete") and code in (400, 409, 422)):
        return OK
    return code


def _clients(world: World) -> dict[str, Client]:
    """A signed-in browser per user (revoked tokens have no session: they are anonymous)."""
    clients = {}
    for who in WHO:
        clients[who] = Client()
        if who in world.users and who != "revoked":
            clients[who].force_login(
                world.users[who], backend="django.contrib.auth.backends.ModelBackend"
            )
    return clients


def _ask(
    world: World,
    clients: dict[str, Client],
    endpoint: Endpoint,
    who: str,
    org: str,
    spec: dict[str, Any],
) -> Any:
    path = endpoint.route.format(**{p: _value(world, endpoint, p, org) for p in endpoint.params})
    method = spec.get("method", endpoint.method)
    headers = {"HX-Request": "true"} if spec.get("htmx") else {}
    if endpoint.api:
        client = Client()
        if who in world.tokens:
            headers["Authorization"] = f"Bearer {world.tokens[who]}"
        if method == "get":
            return client.get(path, spec.get("query", {}), headers=headers)
        if method == "delete":
            return client.delete(path, headers=headers)
        return client.post(
            path,
            _body(endpoint, world.objects[org]["case"].number),
            content_type="application/json",
            headers=headers,
        )
    client = clients[who]
    if method == "post":
        return client.post(path, spec.get("data", {}), headers=headers)
    return client.get(path, spec.get("query", {}), headers=headers)


def _check(world: World, clients: dict[str, Client], endpoint: Endpoint) -> list[str]:
    """Every request of the endpoint by everyone; answers what went other than expected."""
    rule = policy_for(endpoint.key)
    assert rule is not None, f"Add {endpoint.key} to POLICY"
    # Organizations matter only where the path names an object; pages answer a revoked token
    # like any anonymous visitor, so only the API asks with one.
    orgs = ORGS if endpoint.params else ORGS[:1]
    askers = WHO if endpoint.api else [w for w in WHO if w != "revoked"]
    wrong = []
    for spec in PAGE_REQUESTS.get(endpoint.key, [{}]):
        method = spec.get("method", endpoint.method)
        for who in askers:
            for org in orgs:
                # Each request in its own savepoint: one user's change never reaches the next.
                with transaction.atomic():
                    response = _ask(world, clients, endpoint, who, org, spec)
                    transaction.set_rollback(True)
                if "sessionid" in response.cookies and not response.cookies["sessionid"].value:
                    clients.update(_clients(world))  # signed out: sign everyone in again
                got = _outcome(response, endpoint, method)
                want = rule.expected(who, org)
                if got != want or response.status_code >= 500:
                    wrong.append(
                        f"{endpoint.key} as {who} ({org} organization) {spec or ''}: "
                        f"{got}, expected {want}"
                    )
    return wrong


def test_access_matrix(world: World) -> None:
    """One world for every endpoint (building it takes longer than asking)."""
    wrong = []
    clients = _clients(world)
    for endpoint in ENDPOINTS:
        wrong += _check(world, clients, endpoint)
    assert not wrong, "\n".join(wrong)


def test_deactivation_and_revocation_take_effect_at_once(world: World) -> None:
    """A signed-in session and a live token stop working with the next request."""
    rep = world.users["representative"]
    browser = Client()
    browser.force_login(rep, backend="django.contrib.auth.backends.ModelBackend")
    number = world.objects["own"]["case"].number
    token = {"Authorization": f"Bearer {world.tokens['representative']}"}
    assert browser.get(f"/desk/tickets/{number}/").status_code == 200
    assert Client().get(f"/api/v1/tickets/{number}", headers=token).status_code == 200

    people.revoke_token(people.token_user(world.tokens["representative"]))  # type: ignore[arg-type]
    assert Client().get(f"/api/v1/tickets/{number}", headers=token).status_code == 401
    assert browser.get(f"/desk/tickets/{number}/").status_code == 200  # the session lives on

    User.objects.filter(pk=rep.pk).update(is_active=False)
    response = browser.get(f"/desk/tickets/{number}/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/signin/?next=")
    attachment = world.objects["own"]["attachment"].pk
    assert browser.get(f"/attachments/{attachment}/").status_code == 302
