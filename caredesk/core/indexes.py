"""Single-column indexes that a composite index already covers (their column leads it),
dropped by name in a migration: a field change to `db_index=False` would make SQLite
rebuild the whole table, and on PostgreSQL a text key's `_like` copy goes with it."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

Step = Callable[[Any, Any], None]


def _single_column_indexes(schema_editor: Any, table: str, column: str) -> list[str]:
    with schema_editor.connection.cursor() as cursor:
        found = schema_editor.connection.introspection.get_constraints(cursor, table)
    return [
        name
        for name, info in found.items()
        if info["index"]
        and not info["unique"]
        and not info["primary_key"]
        and info["columns"] == [column]
    ]


def drop_covered(app: str, covered: Sequence[tuple[str, str]]) -> tuple[Step, Step]:
    """RunPython's forward and backward steps for these (model, column) indexes."""

    def drop(apps: Any, schema_editor: Any) -> None:
        for model_name, column in covered:
            model = apps.get_model(app, model_name)
            for name in _single_column_indexes(schema_editor, model._meta.db_table, column):
                schema_editor.execute(schema_editor._delete_index_sql(model, name))

    def create(apps: Any, schema_editor: Any) -> None:
        for model_name, column in covered:
            model = apps.get_model(app, model_name)
            if _single_column_indexes(schema_editor, model._meta.db_table, column):
                continue
            current = next(f for f in model._meta.concrete_fields if f.column == column)
            # The indexes a db_index field gets, PostgreSQL's pattern-ops copy for a text
            # key included (a foreign key to a text primary key has one too).
            field = copy.copy(current)
            field.db_index = True
            for sql in schema_editor._field_indexes_sql(model, field):
                schema_editor.execute(sql)

    return drop, create
