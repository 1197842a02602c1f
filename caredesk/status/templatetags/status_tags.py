from __future__ import annotations

from django import template

from caredesk.status.models import ComponentStatus

register = template.Library()


@register.filter
def status_label(value: str) -> str:
    """A component status's words: "partial_outage" reads "Partial outage"."""
    try:
        return str(ComponentStatus(value).label)
    except ValueError:
        return value
