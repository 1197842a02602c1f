"""The access layer is the only way adapters reach customers' data.

Adapters (views, API modules, the desk and the portal) may not query a model that holds a
customer's data directly: they go through its access function (caredesk.core.access). A new
model that points at a ticket, a message or an organization (a call, a stored email) needs
an access function or a stated exemption below, so it cannot slip past the rule.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest
from django.apps import apps
from django.db import models

import caredesk
from caredesk.core.access import ACCESS

ROOT = Path(caredesk.__file__).parent

# Models that point at customers' data but need no access function, and why.
EXEMPT = {
    "tickets.IdempotencyKey": "looked up by (its own user, key) inside tickets.services only",
    "desk.Notification": "an agent's own notices, always filtered by user=the signed-in agent",
    "sla.Clock": "read through the ticket it belongs to (prefetched on visible tickets)",
    "status.LinkedTicket": "agents only, who see every ticket",
}

# Direct queries that stay in adapters, each with its reason: (module, model) -> why.
ALLOWED = {
    ("caredesk/core/views.py", "Ticket"): "/metrics counts open tickets; no per-user lookup",
    ("caredesk/api/outgoing.py", "Event"): "the worker builds webhook payloads, for no user",
    ("caredesk/api/outgoing.py", "Message"): "the worker builds webhook payloads, for no user",
}

QUERY_ATTRIBUTES = {"objects", "_default_manager", "_base_manager"}
SHORTCUTS = {"get_object_or_404", "get_list_or_404"}
OWNERS = {"people.Organization", "tickets.Ticket", "tickets.Message", "people.User"}


def _load_access_modules() -> None:
    for module in pkgutil.walk_packages([str(ROOT)], prefix="caredesk."):
        if module.name.endswith(".access"):
            importlib.import_module(module.name)


def _points_at_customer_data(model: type[models.Model]) -> bool:
    for field in model._meta.get_fields():
        if field.is_relation and (field.many_to_one or field.one_to_one):
            target = field.related_model
            if target is not None and target._meta.label in OWNERS - {"people.User"}:
                return True
    return False


def scoped_models() -> dict[str, str]:
    """Every model holding customers' data: label -> class name."""
    _load_access_modules()
    found = {label: label.split(".")[1] for label in ACCESS}
    for model in apps.get_models():
        label = model._meta.label
        if model.__module__.startswith("caredesk.") and _points_at_customer_data(model):
            found.setdefault(label, model.__name__)
    return {label: name for label, name in found.items() if label not in EXEMPT}


def adapter_modules() -> list[Path]:
    """Views, API modules, the desk and the portal: the code that answers requests."""
    paths = set()
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT)
        if "migrations" in rel.parts:
            continue
        name = path.name
        if (
            name == "views.py"
            or name.endswith("_views.py")
            or name.startswith("api")
            or name in ("web.py", "feeds.py", "webhooks.py")
            or rel.parts[0] in ("desk", "portal", "api")
        ):
            paths.add(path)
    return sorted(paths)


def direct_queries(path: Path, names: set[str]) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    hits = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in QUERY_ATTRIBUTES
            and isinstance(node.value, ast.Name)
            and node.value.id in names
        ):
            hits.append((node.lineno, node.value.id))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in SHORTCUTS
            and node.args
            and isinstance(node.args[0], ast.Name)
            and node.args[0].id in names
        ):
            hits.append((node.lineno, node.args[0].id))
        elif isinstance(node, ast.Call) and getattr(node.func, "id", "") == "get_user_model":
            hits.append((node.lineno, "get_user_model()"))
    return hits


def test_every_model_with_customer_data_has_an_access_function() -> None:
    _load_access_modules()
    missing = [label for label in scoped_models() if label not in ACCESS and label not in EXEMPT]
    assert not missing, (
        f"{missing} hold customers' data but have no access function. Add one in the app's "
        "access.py, registered with @access_for('app.Model') and built on "
        "caredesk.core.access.scope_to_user (or ticket__in=visible_tickets(user)), or add the "
        "model to EXEMPT in tests/test_access_lint.py with the reason."
    )
    for label in ("tickets.Ticket", "tickets.Message", "tickets.Attachment", "people.User"):
        assert label in ACCESS
    assert "people.Organization" in ACCESS


def test_adapters_query_customer_data_only_through_the_access_layer() -> None:
    names = set(scoped_models().values())
    assert {"Ticket", "Message", "Attachment", "User", "Organization"} <= names
    found = []
    for path in adapter_modules():
        rel = str(path.relative_to(ROOT.parent))
        for line, name in direct_queries(path, names):
            if (rel, name) not in ALLOWED:
                found.append(f"{rel}:{line} queries {name} directly")
    assert not found, (
        "Adapters must look these rows up through the access layer (visible_tickets, "
        "get_ticket, visible_messages, get_attachment, visible_contacts, visible_agents, "
        "visible_organizations, ...):\n" + "\n".join(found)
    )


def test_allow_list_entries_are_still_needed() -> None:
    names = set(scoped_models().values())
    for (module, name), reason in ALLOWED.items():
        path = ROOT.parent / module
        assert reason
        assert any(hit == name for _, hit in direct_queries(path, names)), (
            f"{module} no longer queries {name}: drop it from ALLOWED"
        )


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("Ticket.objects.filter(pk=1)", ["Ticket"]),
        ("get_object_or_404(Attachment, pk=1)", ["Attachment"]),
        ("User._default_manager.all()", ["User"]),
        ("get_user_model()", ["get_user_model()"]),
        ("visible_tickets(user).filter(pk=1)", []),
        ("Team.objects.all()", []),
    ],
)
def test_the_lint_recognises_direct_queries(
    tmp_path: Path, source: str, expected: list[str]
) -> None:
    module = tmp_path / "views.py"
    module.write_text(source + "\n")
    names = {"Ticket", "Attachment", "User"}
    assert [name for _, name in direct_queries(module, names)] == expected
