"""Querysets built and compiled once per process, for the lookups a hot path runs every time.

Building and compiling an ORM query costs this machine 0.3-0.5 ms of CPU, several times
what SQLite or PostgreSQL takes to run it. A Prepared query is built from a function of
its parameters the first time it runs (with a marker value for each one) and compiled;
later runs bind the new values in place of the markers, run the SQL on the current
connection (same transaction, same query log) and build the instances as the ORM does:
the same converters, `select_related` rows and annotations.

Only plain values are parameters (a string, an integer, an aware datetime); a list whose
length varies would change the SQL, so a query that needs one stays an ordinary queryset.
Nor may a parameter go to a pattern lookup (`iexact`, `contains`, ...), whose value the ORM
rewrites (escapes, wildcards) at compile time, which a later value would then miss.

`insert(obj)` writes a new model instance as `obj.save(force_insert=True)` does (every
field's `pre_save` and database preparation, the returned primary key), with the INSERT
compiled once per model. An instance that needs more than that (a value that is an
expression, a parent model, a field with its own placeholder, a receiver of pre_save or
post_save) is saved by the ORM as usual.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from django.db import connections
from django.db.models import Model, QuerySet, signals
from django.db.models.query import get_related_populators
from django.db.models.sql import InsertQuery

M = TypeVar("M", bound=Model)

# Values no real query passes, so that each marks its parameter in the compiled SQL (an
# integer inside every integer field's range, where Django checks the range).
_MARKERS: dict[type, Callable[[int], Any]] = {
    str: lambda n: f"\x00prepared-{n}\x00",
    int: lambda n: 2_147_483_000 + n,
    datetime: lambda n: datetime(1901, 2, 3, 4, 5, 6, 700_000 + n, tzinfo=UTC),
}


# Lookups whose value the ORM rewrites when it compiles them (LIKE escapes and wildcards).
_PATTERN_LOOKUPS = frozenset(
    {"iexact", "contains", "icontains", "startswith", "istartswith", "endswith", "iendswith"}
    | {"regex", "iregex"}
)


def _in_pattern_lookup(node: Any, markers: list[Any]) -> bool:
    for child in getattr(node, "children", ()):
        if hasattr(child, "children"):
            if _in_pattern_lookup(child, markers):
                return True
        elif getattr(child, "lookup_name", None) in _PATTERN_LOOKUPS:
            rhs = getattr(child, "rhs", None)
            if any(type(rhs) is type(m) and rhs == m for m in markers):
                return True
    return False


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple[Any, ...]
    slots: tuple[tuple[int, str, Callable[[Any], Any]], ...]  # (position, name, adapt)
    compiler: Any
    converters: dict[int, Any]  # by column, as the ORM applies them to each row
    start: int
    end: int
    init_list: list[str]
    related: list[Any]
    annotations: dict[str, int]


class Prepared(Generic[M]):
    """`Prepared(lambda phone: User.objects.filter(phone=phone)[:1], phone=str)`; then
    `.all(phone="+12125550142")` or `.first(...)` as often as needed."""

    def __init__(self, build: Callable[..., QuerySet[M]], **params: type) -> None:
        unknown = [t for t in params.values() if t not in _MARKERS]
        if unknown:
            raise TypeError(f"Prepared parameters are str, int or datetime, not {unknown}.")
        self.build = build
        self.params = params
        self._compiled: dict[str, _Compiled] = {}

    def _compile(self, alias: str) -> _Compiled:
        connection = connections[alias]
        markers = {name: _MARKERS[kind](n) for n, (name, kind) in enumerate(self.params.items())}
        adapters: dict[str, Callable[[Any], Any]] = {
            name: (connection.ops.adapt_datetimefield_value if kind is datetime else (lambda v: v))
            for name, kind in self.params.items()
        }
        queryset = self.build(**markers)
        if _in_pattern_lookup(queryset.query.where, list(markers.values())):
            raise TypeError(
                "A prepared parameter cannot go to a pattern lookup (iexact, contains…)."
            )
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        wanted = {name: adapters[name](marker) for name, marker in markers.items()}
        slots = tuple(
            (i, name, adapters[name])
            for i, value in enumerate(params)
            for name, marker in wanted.items()
            if type(value) is type(marker) and value == marker
        )
        missing = set(self.params) - {name for _, name, _ in slots}
        if missing:
            raise TypeError(f"The prepared query does not use {', '.join(sorted(missing))}.")
        info = compiler.klass_info
        start, end = info["select_fields"][0], info["select_fields"][-1] + 1
        return _Compiled(
            sql=sql,
            params=tuple(params),
            slots=slots,
            compiler=compiler,
            converters=compiler.get_converters(
                [s[0] for s in compiler.select[: compiler.col_count]]
            ),
            start=start,
            end=end,
            init_list=[f[0].target.attname for f in compiler.select[start:end]],
            # (django-stubs describe a later Django's signature)
            related=get_related_populators(info, compiler.select, alias),  # type: ignore[call-arg]
            annotations=dict(compiler.annotation_col_map),
        )

    def all(self, *, using: str = "default", **values: Any) -> list[M]:
        compiled = self._compiled.get(using)
        if compiled is None:
            compiled = self._compiled[using] = self._compile(using)
        params = list(compiled.params)
        for position, name, adapt in compiled.slots:
            params[position] = adapt(values[name])
        with connections[using].cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        found: list[M] = []
        model = compiled.compiler.klass_info["model"]
        if compiled.converters:
            rows = compiled.compiler.apply_converters(rows, compiled.converters)
        for row in rows:
            obj = model.from_db(using, compiled.init_list, row[compiled.start : compiled.end])
            for populator in compiled.related:
                populator.populate(row, obj)
            for name, position in compiled.annotations.items():
                setattr(obj, name, row[position])
            found.append(obj)
        return found

    def first(self, *, using: str = "default", **values: Any) -> M | None:
        """The first row (build the queryset with its order and `[:1]`)."""
        found = self.all(using=using, **values)
        return found[0] if found else None


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


_updates: dict[tuple[type[Model], str, tuple[str, ...]], str] = {}


def update(obj: Model, fields: Sequence[str], using: str = "default") -> None:
    """Write these fields of a stored instance with one UPDATE by primary key, as
    obj.save(update_fields=fields) would (every field's `pre_save`, e.g. auto_now), with the
    statement built once per model and set of fields. An instance that needs more than that
    (a receiver of pre_save or post_save, a value that is an expression) is saved by the
    ORM as usual."""
    model = type(obj)
    meta = model._meta
    connection = connections[using]
    chosen = [meta.get_field(name) for name in fields]
    values = [f.pre_save(obj, False) for f in chosen]  # type: ignore[union-attr]
    if (
        obj.pk is None
        or meta.parents
        or signals.pre_save.has_listeners(model)
        or signals.post_save.has_listeners(model)
        or any(hasattr(v, "resolve_expression") for v in values)
    ):
        obj.save(update_fields=fields, using=using)
        return
    key = (model, using, tuple(fields))
    sql = _updates.get(key)
    if sql is None:
        qn = connection.ops.quote_name
        sets = ", ".join(f"{qn(str(f.column))} = %s" for f in chosen)  # type: ignore[union-attr]
        sql = _updates[key] = (
            f"UPDATE {qn(meta.db_table)} SET {sets} WHERE {qn(str(meta.pk.column))} = %s"  # noqa: S608 -- model names
        )
    params = [
        f.get_db_prep_save(v, connection=connection)  # type: ignore[union-attr]
        for f, v in zip(chosen, values, strict=True)
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, meta.pk.get_db_prep_value(obj.pk, connection)])
