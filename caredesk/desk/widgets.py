"""Form widgets of the desk."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.renderers import BaseRenderer
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString


class Select(forms.Select):
    """Django's <select>, the same markup, written here instead of by a template include
    for every option and attribute: the desk shows several lists of agents and
    organizations on every page, and those includes cost a few milliseconds a page."""

    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: BaseRenderer | None = None,
    ) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        groups = format_html_join(
            "", "{}", ((_group(name, options),) for name, options, _ in widget["optgroups"])
        )
        return format_html(
            '<select name="{}"{}>{}\n</select>', widget["name"], _attrs(widget["attrs"]), groups
        )


def _group(name: str | None, options: list[dict[str, Any]]) -> SafeString:
    listed = format_html_join(
        "",
        '\n  <option value="{}"{}>{}</option>\n',
        ((str(o["value"]), _attrs(o["attrs"]), o["label"]) for o in options),
    )
    if not name:
        return listed
    return format_html('\n  <optgroup label="{}">{}\n  </optgroup>', name, listed)


def _attrs(attrs: dict[str, Any]) -> SafeString:
    # As django/forms/widgets/attrs.html writes them: False leaves one out, True is bare.
    return format_html_join(
        "",
        " {}{}",
        (
            (name, "" if value is True else format_html('="{}"', str(value)))
            for name, value in attrs.items()
            if value is not False
        ),
    )
