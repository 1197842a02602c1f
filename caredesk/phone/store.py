"""The statements every call event runs, built once per process from the models.

Building and compiling an ORM query costs this machine more CPU than running it (0.3-0.5
ms against well under 0.1 ms), and every CTI event reads its call, stores the event and
writes the call back. So on the hottest path of the phone the read is a compiled query
(core/prepared.py) and the writes are plain SQL built from the models' metadata (no
column name is written twice), run on Django's connection (the same transaction, the same
query log). `ON CONFLICT` and `RETURNING` work on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Field, Model

from caredesk.core.prepared import Prepared, update
from caredesk.phone.models import Call, CallEvent

# Every column of the call, and of its answering agent the email (the timeline's facts).
_CALL = Prepared(
    lambda call_id: (
        Call.objects.select_for_update(of=("self",))
        .select_related("answered_by")
        .only(*(f.name for f in Call._meta.concrete_fields), "answered_by__email")
        .filter(call_id=call_id)
        .order_by()[:1]
    ),
    call_id=str,
)


@dataclass(frozen=True)
class _Statements:
    insert: str  # a new call, unless that call id exists (then no row comes back)
    add_event: str  # an event, or one more repeat of it: answers its repeats
    written: tuple[Field[Any, Any], ...]  # the call's columns but its key
    event_fields: tuple[Field[Any, Any], ...]  # an event's columns but its key


_built: dict[str, _Statements] = {}


def _statements() -> _Statements:
    found = _built.get(connection.alias)
    if found is None:
        found = _built[connection.alias] = _build()
    return found


def _insert(model: type[Model], fields: tuple[Field, ...], conflict: str) -> str:
    qn = connection.ops.quote_name
    columns = ", ".join(qn(str(f.column)) for f in fields)
    values = ", ".join(["%s"] * len(fields))
    return f"INSERT INTO {qn(model._meta.db_table)} ({columns}) VALUES ({values}) {conflict}"  # noqa: S608 -- model names


def _build() -> _Statements:
    qn = connection.ops.quote_name
    written = tuple(f for f in Call._meta.concrete_fields if not f.primary_key)
    insert = _insert(
        Call,
        written,
        f"ON CONFLICT ({qn('call_id')}) DO NOTHING RETURNING {qn(str(Call._meta.pk.column))}",
    )
    events = qn(CallEvent._meta.db_table)
    stored = tuple(f for f in CallEvent._meta.concrete_fields if not f.primary_key)
    add_event = _insert(
        CallEvent,
        stored,
        f"ON CONFLICT ({qn('call_id_text')}, {qn('kind')})"
        f" DO UPDATE SET {qn('repeats')} = {events}.{qn('repeats')} + 1 RETURNING {qn('repeats')}",
    )
    return _Statements(insert, add_event, written, stored)


def _remember(call: Call) -> Call:
    # What the row holds now, so that save_call writes only the columns that changed.
    call._phone_stored = {  # type: ignore[attr-defined]
        f.attname: getattr(call, f.attname) for f in _statements().written
    }
    return call


def lock_call(call_id: str) -> Call | None:
    """The call with this id, locked until the transaction ends (SQLite's writers queue on
    BEGIN IMMEDIATE instead), with its answering agent's email."""
    call = _CALL.first(call_id=call_id)
    return None if call is None else _remember(call)


def insert_call(call: Call) -> bool:
    """Store a new call; False when a call with its id exists already (it is left as is)."""
    sql = _statements()
    values = [f.get_db_prep_save(getattr(call, f.attname), connection) for f in sql.written]
    with connection.cursor() as cursor:
        cursor.execute(sql.insert, values)
        row = cursor.fetchone()
    if row is None:
        return False
    call.pk = row[0]
    call._state.adding, call._state.db = False, connection.alias
    _remember(call)
    return True


def save_call(call: Call) -> None:
    """Write the columns of a stored call that changed since it was read or inserted."""
    stored: dict[str, Any] = call._phone_stored  # type: ignore[attr-defined]
    written = _statements().written
    changed = [f.name for f in written if getattr(call, f.attname) != stored[f.attname]]
    if changed:
        update(call, changed)
        _remember(call)


def add_event(event: CallEvent) -> bool:
    """Store a CTI event once per (call id, event): True when it is new, False when it was
    stored before (its repeats are counted instead)."""
    sql = _statements()
    values = [f.get_db_prep_save(getattr(event, f.attname), connection) for f in sql.event_fields]
    with connection.cursor() as cursor:
        cursor.execute(sql.add_event, values)
        (repeats,) = cursor.fetchone()
    return bool(repeats == 0)
