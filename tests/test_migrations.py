"""Migrations that drop indexes give every one back when they are undone."""

from __future__ import annotations

from collections import Counter

import pytest
from django.core.management import call_command
from django.db import connection


def _indexes(tables: list[str]) -> Counter[tuple[str, tuple[str, ...]]]:
    """How many plain indexes each (table, columns) has: on PostgreSQL a text column's
    pattern-ops copy (`…_like`) is a second index on the same column."""
    found: Counter[tuple[str, tuple[str, ...]]] = Counter()
    with connection.cursor() as cursor:
        for table in tables:
            for info in connection.introspection.get_constraints(cursor, table).values():
                if info["index"] and not info["unique"] and not info["primary_key"]:
                    found[(table, tuple(info["columns"]))] += 1
    return found


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("app", "before", "tables"),
    [
        ("tickets", "0002_sla_due_at", ["tickets_ticket", "tickets_message", "tickets_event"]),
        ("mail", "0001_initial", ["mail_inboundemail", "mail_outboundmail"]),
    ],
)
def test_undoing_the_index_cleanup_restores_every_index(
    app: str, before: str, tables: list[str]
) -> None:
    # The app built from nothing up to `before`: the indexes its first migrations made.
    call_command("migrate", app, "zero", verbosity=0)
    try:
        call_command("migrate", app, before, verbosity=0)
        original = _indexes(tables)
        call_command("migrate", app, verbosity=0)
        assert sum(_indexes(tables).values()) < sum(original.values())  # some went
        call_command("migrate", app, before, verbosity=0)
        assert _indexes(tables) == original
    finally:
        call_command("migrate", verbosity=0)
