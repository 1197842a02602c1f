"""Seven single-column indexes that composite ones already cover (their column leads an
index of Meta): every new ticket, message and event paid for them. Dropped by name, so
SQLite does not rebuild the tables as the field changes would."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from caredesk.core.indexes import drop_covered

# (model, column) whose single-column index goes; the index that covers it stays.
COVERED = [
    ("event", "ticket_id"),
    ("message", "ticket_id"),
    ("ticket", "assignee_id"),
    ("ticket", "organization_id"),
    ("ticket", "requester_id"),
    ("ticket", "team_id"),
    ("ticket", "type_id"),
]

drop, create = drop_covered("tickets", COVERED)


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0003_shift"),
        ("servicemodel", "0002_calendar_exceptions_public_holidays"),
        ("tickets", "0002_sla_due_at"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="event",
                    name="ticket",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="events",
                        to="tickets.ticket",
                    ),
                ),
                migrations.AlterField(
                    model_name="message",
                    name="ticket",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="messages",
                        to="tickets.ticket",
                    ),
                ),
                migrations.AlterField(
                    model_name="ticket",
                    name="assignee",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="assigned_tickets",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="ticket",
                    name="organization",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="tickets",
                        to="people.organization",
                    ),
                ),
                migrations.AlterField(
                    model_name="ticket",
                    name="requester",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="requested_tickets",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="ticket",
                    name="team",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="tickets",
                        to="servicemodel.team",
                    ),
                ),
                migrations.AlterField(
                    model_name="ticket",
                    name="type",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="tickets",
                        to="servicemodel.tickettype",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(drop, create)],
        ),
    ]
