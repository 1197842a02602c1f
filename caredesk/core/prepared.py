"""Lookups and inserts compiled once per process: the same rows the ORM builds and writes,
without compiling the statement on every request.

Turning a queryset into SQL costs the ORM 0.2-0.5 ms of Python on this kind of machine,
several times what the database takes to answer an indexed lookup. The few lookups that
run on every request (an API token, a contact by address) compile theirs once:

    BY_EMAIL = Prepared(lambda email: User.objects.filter(email=email).select_related("org"))
    user = BY_EMAIL.first("someone@example.com")

The queryset is built with a marker in place of each value and compiled on first use; each
call then runs the same SQL with the values put where the markers were, and builds the
model (and its select_related rows) as the ORM's own iterator does, with the same field
converters. Only exact lookups of text values may be prepared: a value the ORM rewrites
(`iexact`, `contains`, a number) would not be found in the parameters, and preparing such
a queryset fails at once rather than answering wrongly.

`insert(obj)` writes a new model instance as `obj.save(force_insert=True)` does (every
field's `pre_save` and database preparation, the returned primary key), with the INSERT
compiled once per model. An instance that needs more than that (a value that is an
expression, a parent model, a field with its own placeholder, a receiver of pre_save or
post_save) is saved by the ORM as usual.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import connections
from django.db.models import Model, QuerySet, signals
from django.db.models.query import get_related_populators
from django.db.models.sql import InsertQuery

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class _Compiled:
    sql: str
    # Each parameter: the index of a call's value, or a constant of the queryset itself.
    params: tuple[tuple[bool, Any], ...]
    model: type[Model]
    init_list: list[str]
    fields_start: int
    fields_end: int
    converters: dict[int, tuple[list[Any], Any]]
    populators: list[Any]


def _exact_only(node: Any, markers: list[str]) -> bool:
    """Whether every lookup that takes a marker is a plain `exact` one: other lookups may
    rewrite the value at compile time (LIKE escapes, wildcards), which a later value would
    then miss."""
    for child in getattr(node, "children", ()):
        if hasattr(child, "children"):
            if not _exact_only(child, markers):
                return False
        elif getattr(child, "rhs", None) in markers and child.lookup_name != "exact":
            return False
    return True


class Prepared(Generic[M]):
    def __init__(self, build: Callable[..., QuerySet[M]], arity: int = 1) -> None:
        self.build = build
        self.arity = arity
        self._compiled: dict[str, _Compiled] = {}

    def _compile(self, using: str) -> _Compiled:
        markers = [f"\x00prepared-{i}\x00" for i in range(self.arity)]
        query = self.build(*markers)[:1].query
        if not _exact_only(query.where, markers):
            raise ValueError("Only exact lookups of text values can be prepared.")
        compiler = query.get_compiler(using)
        sql, raw_params = compiler.as_sql()
        params = tuple((True, markers.index(p)) if p in markers else (False, p) for p in raw_params)
        found = sorted(i for is_value, i in params if is_value)
        if found != list(range(self.arity)):
            raise ValueError("Only exact lookups of text values can be prepared.")
        select = compiler.select
        klass_info = compiler.klass_info
        assert klass_info is not None and not compiler.annotation_col_map
        fields = klass_info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        return _Compiled(
            sql=sql,
            params=params,
            model=klass_info["model"],
            init_list=[f[0].target.attname for f in select[start:end]],
            fields_start=start,
            fields_end=end,
            converters=compiler.get_converters([s[0] for s in select[: compiler.col_count]]),
            # django-stubs describes a later Django that adds an argument.
            populators=get_related_populators(klass_info, select, using),  # type: ignore[call-arg]
        )

    def first(self, *values: Any, using: str = "default") -> M | None:
        """The first row of the queryset built with these values, or None."""
        compiled = self._compiled.get(using)
        if compiled is None:
            compiled = self._compiled[using] = self._compile(using)
        connection = connections[using]
        params = [values[p] if is_value else p for is_value, p in compiled.params]
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            found: Sequence[Any] | None = cursor.fetchone()
        if found is None:
            return None
        row = list(found)
        for pos, (converters, expression) in compiled.converters.items():
            value = row[pos]
            for converter in converters:
                value = converter(value, expression, connection)
            row[pos] = value
        obj = compiled.model.from_db(
            using, compiled.init_list, row[compiled.fields_start : compiled.fields_end]
        )
        for populator in compiled.populators:
            populator.populate(row, obj)
        return obj  # type: ignore[return-value]


@dataclass(frozen=True)
class _Insert:
    sql: str
    fields: list[Any]
    returning: list[Any]
    returning_params: Any
    converters: dict[int, tuple[list[Any], Any]]


_inserts: dict[tuple[type[Model], str], _Insert | None] = {}


def _compile_insert(model: type[Model], obj: Model, using: str) -> _Insert | None:
    meta = model._meta
    if meta.parents or meta.pk is not meta.auto_field:
        return None
    fields = [f for f in meta.local_concrete_fields if not f.generated and f is not meta.auto_field]
    if any(hasattr(f, "get_placeholder") for f in fields):
        return None
    query = InsertQuery(model)
    query.insert_values(fields, [obj])
    compiler = query.get_compiler(using=using)
    compiler.returning_fields = meta.db_returning_fields
    [(sql, _)] = compiler.as_sql()
    returning = list(meta.db_returning_fields)
    cols = [f.get_col(meta.db_table) for f in returning]
    return _Insert(sql, fields, returning, compiler.returning_params, compiler.get_converters(cols))


def insert(obj: Model, using: str = "default") -> None:
    """Save a new instance with one INSERT, as obj.save(force_insert=True) would."""
    model = type(obj)
    key = (model, using)
    if key not in _inserts:
        _inserts[key] = _compile_insert(model, obj, using)
    compiled = _inserts[key]
    connection = connections[using]
    if (
        compiled is None
        or not obj._state.adding
        or obj.pk is not None
        or signals.pre_save.has_listeners(model)
        or signals.post_save.has_listeners(model)
        or not connection.features.can_return_columns_from_insert
    ):
        obj.save(force_insert=True, using=using)
        return
    obj._prepare_related_fields_for_save(operation_name="save")  # type: ignore[attr-defined]
    values = [f.pre_save(obj, True) for f in compiled.fields]
    if any(hasattr(v, "resolve_expression") for v in values):
        obj.save(force_insert=True, using=using)
        return
    params = [
        f.get_db_prep_save(v, connection=connection)
        for f, v in zip(compiled.fields, values, strict=True)
    ]
    with connection.cursor() as cursor:
        cursor.execute(compiled.sql, params)
        row = list(
            connection.ops.fetch_returned_insert_columns(  # type: ignore[attr-defined]
                cursor, compiled.returning_params
            )
        )
    for pos, (converters, expression) in compiled.converters.items():
        for converter in converters:
            row[pos] = converter(row[pos], expression, connection)
    for field, value in zip(compiled.returning, row, strict=True):
        setattr(obj, field.attname, value)
    obj._state.adding = False
    obj._state.db = using
