"""Desk pieces every agent page shows: the presence control and the unread notices count."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.utils import timezone
from django.utils.html import format_html

from caredesk.desk.coverage import presence_context
from caredesk.desk.notices import unread_count
from caredesk.desk.queues import SOON
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


def duration_words(seconds: float) -> str:
    """A short duration for a countdown: "45 s", "12 min", "3 h 05 min", "2 d 4 h"."""
    seconds = int(abs(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


@register.simple_tag
def countdown(due: datetime, at: datetime) -> str:
    """The time left to `due` as text, which desk.js keeps ticking from data-due; without
    JavaScript the text is right as of the page's rendering."""
    left = (due - at).total_seconds()
    state = "overdue" if left < 0 else "soon" if left <= SOON.total_seconds() else "later"
    text = f"overdue {duration_words(left)}" if left < 0 else f"in {duration_words(left)}"
    local = timezone.localtime(due)
    return format_html(
        '<time class="countdown due-{}" datetime="{}" data-due="{}" title="Due {}">{}</time>',
        state,
        due.isoformat(),
        due.isoformat(),
        f"{local:%a %b} {local.day}, {local:%H:%M %Z}",
        text,
    )
