"""Template filters of the report pages."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def duration_text(seconds: float | None) -> str:
    """Seconds as a short duration: "45 s", "9 min 30 s", "2 h 5 min"; "—" for none."""
    if seconds is None:
        return "—"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"
