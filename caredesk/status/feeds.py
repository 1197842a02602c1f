"""Atom and RSS feeds of incidents and maintenance, at Statuspage's paths."""

from __future__ import annotations

from datetime import datetime

from django.contrib.syndication.views import Feed
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import format_html, format_html_join, linebreaks

from caredesk.servicemodel.models import ServiceSettings
from caredesk.status.models import Incident

ITEMS = 50


class RssFeed(Feed):
    description = "Incidents and scheduled maintenance, with every update."

    def get_object(self, request: HttpRequest, *args: object, **kwargs: object) -> None:
        self.service = ServiceSettings.current()
        return None

    def title(self) -> str:
        return f"{self.service.status_page_name or self.service.name} history"

    def link(self) -> str:
        return reverse("status:index")

    def items(self) -> QuerySet[Incident]:
        return Incident.objects.prefetch_related("updates").order_by("-updated_at", "-id")[:ITEMS]

    def item_title(self, item: Incident) -> str:
        return item.name

    def item_description(self, item: Incident) -> str:
        # Newest update first, each with its time and status, as Statuspage's feeds read.
        updates = format_html_join(
            "",
            "<p><small>{}</small><br><strong>{}</strong> - {}</p>",
            (
                (
                    u.display_at.strftime("%b %-d, %H:%M UTC"),
                    u.get_status_display(),
                    linebreaks(u.body, autoescape=True),
                )
                for u in item.updates.all()
            ),
        )
        window = ""
        if item.is_maintenance and item.scheduled_for and item.scheduled_until:
            window = format_html(
                "<p>Scheduled for {} to {} UTC{}</p>",
                item.scheduled_for.strftime("%b %-d, %H:%M"),
                item.scheduled_until.strftime("%b %-d, %H:%M"),
                f"; upgrade to version {item.target_version}" if item.target_version else "",
            )
        return window + updates

    def item_link(self, item: Incident) -> str:
        return reverse("status:incident", args=[item.pk])

    def item_pubdate(self, item: Incident) -> datetime:
        return item.created_at

    def item_updateddate(self, item: Incident) -> datetime:
        return item.updated_at


class AtomFeed(RssFeed):
    feed_type = Atom1Feed

    def subtitle(self) -> str:
        return self.description
