"""Admin: the intake log, quarantined mail and its reprocessing; the outbox."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from caredesk.core.errors import DomainError
from caredesk.mail import outbound
from caredesk.mail.intake import reprocess
from caredesk.mail.models import InboundEmail, OutboundMail


@admin.register(InboundEmail)
class InboundEmailAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "id",
        "received_at",
        "status",
        "kind",
        "from_address",
        "subject",
        "ticket",
        "reason",
    )
    list_filter = ("status", "kind", "source")
    search_fields = ("from_address", "subject", "message_id", "ticket__number", "bounce_recipient")
    date_hierarchy = "received_at"
    actions = ["reprocess_selected"]
    exclude = ("raw", "html")
    readonly_fields = (
        "in_the_desk",
        "raw_text",
        *[
            f.name
            for f in InboundEmail._meta.get_fields()
            if getattr(f, "concrete", False) and f.name not in ("raw", "html", "id")
        ],
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[InboundEmail]:
        # The raw bytes may be megabytes each: the list never loads them.
        queryset = super().get_queryset(request).select_related("ticket")
        return (
            queryset
            if request.resolver_match and "change" in (request.resolver_match.url_name or "")
            else queryset.defer("raw", "html")
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="Formatted, with headers and download")
    def in_the_desk(self, obj: InboundEmail) -> str:
        url = reverse("desk:mail:original", args=[obj.pk])
        return format_html('<a href="{}">Open this email in the desk</a>', url)

    @admin.display(description="Raw message (first 20,000 characters)")
    def raw_text(self, obj: InboundEmail) -> str:
        return bytes(obj.raw[:20000]).decode("utf-8", "replace")

    @admin.action(description="Reprocess the selected quarantined messages")
    def reprocess_selected(self, request: HttpRequest, queryset: QuerySet[InboundEmail]) -> None:
        done = 0
        for row in queryset.filter(status=InboundEmail.Status.QUARANTINED).defer("raw"):
            try:
                result = reprocess(row)
            except DomainError as exc:
                self.message_user(request, exc.message, messages.WARNING)
                continue
            done += 1
            self.message_user(
                request, f"Message {row.pk}: {result.status}. {result.reason}", messages.INFO
            )
        if not done:
            self.message_user(request, "No quarantined message was selected.", messages.WARNING)


@admin.register(OutboundMail)
class OutboundMailAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """The outbox: every mail sent or waiting, with its attempts and the server's answer."""

    list_display = ("id", "created_at", "kind", "ticket", "recipients", "state", "attempts")
    list_filter = ("state", "kind")
    search_fields = ("ticket__number", "subject", "message_id", "recipients")
    date_hierarchy = "created_at"
    actions = ["retry_selected"]
    readonly_fields = [
        f.name for f in OutboundMail._meta.get_fields() if getattr(f, "concrete", False)
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[OutboundMail]:
        return super().get_queryset(request).select_related("ticket")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Send the selected undelivered mails again now")
    def retry_selected(self, request: HttpRequest, queryset: QuerySet[OutboundMail]) -> None:
        undelivered = queryset.exclude(state=OutboundMail.State.SENT)
        for mail in undelivered:
            outbound.retry(mail)
        self.message_user(request, f"{len(undelivered)} mail(s) will be sent again.")
