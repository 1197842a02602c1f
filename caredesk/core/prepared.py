"""Lookups compiled once per process: the same rows the ORM builds, without compiling the
query on every request.

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
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators

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


class Prepared(Generic[M]):
    def __init__(self, build: Callable[..., QuerySet[M]], arity: int = 1) -> None:
        self.build = build
        self.arity = arity
        self._compiled: dict[str, _Compiled] = {}

    def _compile(self, using: str) -> _Compiled:
        markers = [f"\x00prepared-{i}\x00" for i in range(self.arity)]
        query = self.build(*markers)[:1].query
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
