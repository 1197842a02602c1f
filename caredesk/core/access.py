"""The one rule for what a user may see, and the registry of access functions.

Every model that holds a customer's data (tickets, messages, attachments, contacts,
organizations, and calls or mail once they exist) has one access function, registered here
with `@access_for("app.Model")`. Views, the API and the other adapters look such rows up
only through those functions; `tests/test_access_lint.py` fails when an adapter queries one
of these models directly, or when a model that points at a ticket, a message or an
organization has neither an access function nor a stated exemption.

The rule (DESIGN.md, "Who sees what"): agents see everything; a customer contact sees what
they requested, and their organization's when the organization shares its tickets;
anonymous and deactivated users see nothing. A model owned through a ticket (a call, an
email) is scoped by `ticket__in=visible_tickets(user)`; a model owned directly by a contact
and an organization uses `scope_to_user` with its own field names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.db.models import Model, Q, QuerySet

M = TypeVar("M", bound=Model)
F = TypeVar("F", bound=Callable[..., Any])

# "app_label.ModelName" -> the function that answers its rows for a user.
ACCESS: dict[str, Callable[..., Any]] = {}


def access_for(label: str) -> Callable[[F], F]:
    """Register `function` as the access function of the model `label`."""

    def register(function: F) -> F:
        ACCESS[label] = function
        return function

    return register


def may_see_anything(user: Any) -> bool:
    return user is not None and bool(getattr(user, "is_active", False))


def is_agent(user: Any) -> bool:
    return may_see_anything(user) and bool(getattr(user, "is_agent", False))


def scope_to_user(
    rows: QuerySet[M], user: Any, *, requester: str | None, organization: str | None
) -> QuerySet[M]:
    """`rows` narrowed to what `user` may see: all for agents, none for anonymous or
    deactivated users; for a contact the rows whose `requester` field is them, and those
    whose `organization` field is their organization when it shares its tickets."""
    if not may_see_anything(user):
        return rows.none()
    if user.is_agent:
        return rows
    mine = Q(**{requester: user}) if requester else Q(pk__in=[])
    org = user.organization
    if organization and org is not None and org.shares_tickets:
        mine |= Q(**{organization: org})
    return rows.filter(mine)
