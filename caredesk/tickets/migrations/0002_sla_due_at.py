"""Ticket.sla_due_at: the earliest due time of a ticket's running SLA clocks, indexed so the
desk's queues sort by urgency without a subquery per ticket; filled for existing tickets."""

from typing import Any

from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def fill(apps: Any, schema_editor: Any) -> None:
    Ticket = apps.get_model("tickets", "Ticket")
    Clock = apps.get_model("sla", "Clock")
    running = Clock.objects.filter(stopped_at__isnull=True, due_at__isnull=False)
    earliest = running.filter(ticket=OuterRef("pk")).order_by("due_at").values("due_at")[:1]
    Ticket.objects.filter(pk__in=running.values("ticket_id")).update(
        sla_due_at=Subquery(earliest)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0001_initial"),
        ("sla", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="ticket",
            name="sla_due_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(fields=["sla_due_at", "-id"], name="ticket_sla_due"),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
