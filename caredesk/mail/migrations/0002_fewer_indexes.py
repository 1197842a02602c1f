"""Three indexes that others already cover (each is the first column of another index):
every message's insert and update paid for them. Dropped by name, so SQLite does not
rebuild the tables (which hold every message's raw bytes) as a field change would."""

import django.db.models.deletion
from django.db import migrations, models

from caredesk.core.indexes import drop_covered

# (model, column) whose single-column index goes; the index that covers it stays.
COVERED = [("inboundemail", "from_address"), ("outboundmail", "ticket_id")]


drop, create = drop_covered("mail", COVERED)


class Migration(migrations.Migration):
    dependencies = [
        ("mail", "0001_initial"),
        ("tickets", "0002_sla_due_at"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="inboundemail", name="inbound_message_id"),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="inboundemail",
                    name="from_address",
                    field=models.CharField(blank=True, max_length=320),
                ),
                migrations.AlterField(
                    model_name="outboundmail",
                    name="ticket",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="outbound_emails",
                        to="tickets.ticket",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(drop, create)],
        ),
    ]
