"""Who may see which calls: agents every call; a contact their own calls, and their
organization's when it shares its tickets (the same rule as for tickets)."""

from __future__ import annotations

from django.db.models import QuerySet

from caredesk.core.access import access_for, scope_to_user
from caredesk.people.models import User
from caredesk.phone.models import Call


@access_for("phone.Call")
def visible_calls(user: User | None) -> QuerySet[Call]:
    return scope_to_user(Call.objects.all(), user, requester="contact", organization="organization")
