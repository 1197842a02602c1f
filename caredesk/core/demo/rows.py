"""Rows written straight into a table, for the demo at benchmark sizes."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, models

from caredesk.core.clock import now
from caredesk.tickets.models import Event


class Table:
    """Rows for one model, written with executemany. Columns the demo does not set (say,
    ones added by a later migration) get their field's default."""

    def __init__(self, model: type[models.Model], columns: Sequence[str]) -> None:
        fields = {f.attname: f for f in model._meta.concrete_fields}
        rest = [f for name, f in fields.items() if name not in columns and not f.primary_key]

        def quote(field: models.Field[Any, Any]) -> str:
            return connection.ops.quote_name(field.column or field.attname)

        names = ", ".join(quote(fields[name]) for name in columns)
        names += "".join(f", {quote(f)}" for f in rest)
        marks = ", ".join(["%s"] * (len(columns) + len(rest)))
        # Only quoted identifiers from the model go into the text; values are parameters.
        table = connection.ops.quote_name(model._meta.db_table)
        self.sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608
        self.tail = tuple(_default(f) for f in rest)
        self.rows: list[tuple[Any, ...]] = []

    def add(self, *values: Any) -> None:
        self.rows.append(values + self.tail)

    def write(self, cursor: Any) -> None:
        if self.rows:
            cursor.executemany(self.sql, self.rows)
            self.rows.clear()


def _default(field: models.Field[Any, Any]) -> Any:
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        value = now()
    else:
        value = field.get_default()
    return field.get_db_prep_save(value, connection)


def datetime_adapter() -> Callable[[float | None], Any]:
    if connection.vendor == "sqlite":
        # Django keeps SQLite datetimes as naive UTC text; formatting it here is several
        # times faster than the general adapter, which counts at a few million values.
        epoch = datetime(1970, 1, 1)  # naive on purpose: the text is naive UTC

        def sqlite(ts: float | None) -> Any:
            return None if ts is None else str(epoch + timedelta(seconds=ts))

        return sqlite
    adapt = connection.ops.adapt_datetimefield_value
    return lambda ts: None if ts is None else adapt(datetime.fromtimestamp(ts, UTC))


def json_adapter() -> Callable[[dict[str, Any]], Any]:
    if connection.vendor == "sqlite":
        return json.dumps
    field = Event._meta.get_field("data")
    db = connections[DEFAULT_DB_ALIAS]
    return lambda value: field.get_db_prep_save(value, db)
