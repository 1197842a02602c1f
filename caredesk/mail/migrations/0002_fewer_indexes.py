"""Three indexes that others already cover (each is the first column of another index):
every message's insert and update paid for them. Dropped by name, so SQLite does not
rebuild the tables (which hold every message's raw bytes) as a field change would."""

from typing import Any

import django.db.models.deletion
from django.db import migrations, models

# (model, column) whose single-column index goes; the index that covers it stays.
COVERED = [("inboundemail", "from_address"), ("outboundmail", "ticket_id")]


def _single_column_indexes(schema_editor: Any, table: str, column: str) -> list[str]:
    with schema_editor.connection.cursor() as cursor:
        found = schema_editor.connection.introspection.get_constraints(cursor, table)
    return [
        name
        for name, info in found.items()
        if info["index"] and not info["unique"] and not info["primary_key"]
        and info["columns"] == [column]
    ]


def drop(apps: Any, schema_editor: Any) -> None:
    for model_name, column in COVERED:
        model = apps.get_model("mail", model_name)
        for name in _single_column_indexes(schema_editor, model._meta.db_table, column):
            schema_editor.execute(schema_editor._delete_index_sql(model, name))


def create(apps: Any, schema_editor: Any) -> None:
    for model_name, column in COVERED:
        model = apps.get_model("mail", model_name)
        if _single_column_indexes(schema_editor, model._meta.db_table, column):
            continue
        current = next(f for f in model._meta.concrete_fields if f.column == column)
        if current.is_relation:
            schema_editor.execute(schema_editor._create_index_sql(model, fields=[current]))
            continue
        # A text field: the index a db_index field gets, with PostgreSQL's pattern-ops copy.
        field = current.clone()
        field.db_index = True
        field.set_attributes_from_name(current.name)
        field.model = model
        for sql in schema_editor._field_indexes_sql(model, field):
            schema_editor.execute(sql)


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
