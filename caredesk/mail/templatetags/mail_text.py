"""{{ body|mail_body }}: a message body with the signature and quoted history folded behind a
disclosure that says which it hides."""

from __future__ import annotations

from django import template
from django.template.defaultfilters import linebreaks_filter
from django.utils.html import format_html
from django.utils.safestring import SafeString

from caredesk.mail.inline import IMAGE_TYPES
from caredesk.mail.quoting import split_quoted

register = template.Library()


@register.filter
def mail_body(text: str) -> SafeString:
    # linebreaks escapes the text (autoescape is on in every template that uses this).
    split = split_quoted(str(text or ""))
    shown = linebreaks_filter(split.visible, autoescape=True)
    if not split.folded:
        return shown
    return format_html(
        '{}<details class="quoted"><summary>{}</summary>{}</details>',
        shown,
        split.label,
        linebreaks_filter(split.folded, autoescape=True),
    )


@register.filter
def is_picture(content_type: str) -> bool:
    """An attachment the timeline shows as a picture (an email's inline image, a photo)."""
    return content_type in IMAGE_TYPES
