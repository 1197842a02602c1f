"""Desk pieces every agent page shows: the presence control and the unread notices count."""

from __future__ import annotations

from typing import Any

from django import template

from caredesk.desk.coverage import presence_context
from caredesk.desk.notices import unread_count
from caredesk.people.models import User

register = template.Library()


@register.inclusion_tag("desk/_presence.html", takes_context=True)
def presence_control(context: template.Context) -> dict[str, Any]:
    user = context["request"].user
    assert isinstance(user, User)
    return {
        "request": context["request"],
        "csrf_token": context.get("csrf_token"),
        **presence_context(user, back=context["request"].get_full_path()),
    }


@register.simple_tag(takes_context=True)
def unread_notices(context: template.Context) -> int:
    user = context["request"].user
    return unread_count(user) if getattr(user, "is_agent", False) else 0
