"""The demo at benchmark sizes (10,000 to 1,000,000 tickets): rows written in batches.

The services would take hours for a million tickets, so this writes the rows they would
have left (tickets with their numbers, an opening event, the escalation and the latest
status change, the first reply, work orders, SLA clocks) straight into the tables, then
moves each type's counter past the last number used so `open_case` carries on without a
duplicate.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Max
from tqdm import tqdm

from caredesk.core.demo import catalog
from caredesk.core.demo.clocks import ClockRows
from caredesk.core.demo.people import Cast
from caredesk.core.demo.rows import Table, datetime_adapter, json_adapter
from caredesk.core.demo.timeline import EASTERN, arrivals, next_staffed, staffed
from caredesk.servicemodel.models import Category, TicketCounter, TicketType
from caredesk.sla.models import Clock
from caredesk.sla.services import refresh_due_times
from caredesk.tickets.models import Event, Message, Ticket, WorkOrder

MINUTE, HOUR, DAY = 60.0, 3600.0, 86400.0
# The status a ticket most likely left for its current one (the one status event written).
BEFORE = {
    "open": "new", "waiting_on_customer": "open", "escalated": "open", "resolved": "open",
    "closed": "resolved",
}  # fmt: skip
INQUIRIES = (*catalog.CC, *catalog.TS, *catalog.PC)
FIRST_TS, FIRST_PC = len(catalog.CC), len(catalog.CC) + len(catalog.TS)
TICKET_COLUMNS = (
    "id", "number", "type_id", "subject", "description", "status", "priority", "team_id",
    "assignee_id", "organization_id", "requester_id", "channel", "environment_id",
    "category_id", "origin_id", "escalation_reason", "created_at", "updated_at",
    "resolved_at", "closed_at",
)  # fmt: skip
EVENT_COLUMNS = ("ticket_id", "kind", "actor_id", "data", "created_at")
MESSAGE_COLUMNS = ("ticket_id", "kind", "author_id", "channel", "body", "created_at")
WORK_ORDER_COLUMNS = (
    "ticket_id", "scope", "requested_by", "estimate", "state", "decision_note",
    "scheduled_for", "approved_at", "done_at", "created_at", "updated_at",
)  # fmt: skip


@dataclass
class Life:
    """When a ticket's status moved, as far as "now"."""

    status: str
    assigned: float | None
    resolved: float | None
    closed: float | None
    updated: float


class Writer:
    """Turns cases into rows, numbering tickets per type in the order they were opened."""

    def __init__(self, cast: Cast, rng: random.Random, end: float) -> None:
        self.cast, self.rng, self.end = cast, rng, end
        self.dt = datetime_adapter()
        self.json = json_adapter()
        self.types = {t.key: t for t in TicketType.objects.all()}
        counters = dict(TicketCounter.objects.values_list("ticket_type_id", "next_number"))
        self.next_number = {k: counters.get(k, t.first_number) for k, t in self.types.items()}
        self.first_number = dict(self.next_number)
        self.work_order = set(
            Category.objects.filter(work_order=True).values_list("key", flat=True)
        )
        self.next_id = (Ticket.objects.aggregate(m=Max("id"))["m"] or 0) + 1
        self.tickets = Table(Ticket, TICKET_COLUMNS)
        self.events = Table(Event, EVENT_COLUMNS)
        self.messages = Table(Message, MESSAGE_COLUMNS)
        self.orders = Table(WorkOrder, WORK_ORDER_COLUMNS)
        self.clocks = ClockRows(self.dt)
        self._encoded: dict[tuple[str, ...], Any] = {}
        self.written = 0
        orgs = cast.organizations
        self.contacts = [cast.contacts[o.pk] for o in orgs]
        self.envs: list[list[str | None]] = [[*cast.environments[o.pk]] or [None] for o in orgs]
        self.staff = {role: [u.pk for u in users] for role, users in cast.staff.items()}
        self.names = {u.pk: u.name for users in cast.staff.values() for u in users}
        self._opening: dict[int, float | None] = {}  # by hour: None when staffed

    def opening(self, ts: float) -> float | None:
        """None in staffed hours; otherwise when the desk opens next."""
        hour = int(ts // HOUR)
        if hour not in self._opening:
            at = datetime.fromtimestamp(hour * HOUR, UTC)
            self._opening[hour] = None if staffed(at) else next_staffed(at).timestamp()
        return self._opening[hour]

    def staffed(self, ts: float) -> bool:
        return self.opening(ts) is None

    def desk_agent(self, ts: float) -> int:
        return self.rng.choice(self.staff["representative" if self.staffed(ts) else "emergency"])

    def life(self, opened: float, assigned: float | None, resolve: float, *, waiting: bool) -> Life:
        """A ticket answered at `assigned` that is resolved at `resolve`, closed days later."""
        end = self.end
        if assigned is None or assigned > end:
            return Life("new", None, None, None, opened)
        if resolve > end:
            return Life(
                "waiting_on_customer" if waiting else "open", assigned, None, None, assigned
            )
        close = resolve + self.rng.uniform(2, 4) * DAY
        if close > end:
            return Life("resolved", assigned, resolve, None, resolve)
        return Life("closed", assigned, resolve, close, close)

    def encoded(self, key: tuple[str, ...], value: dict[str, Any]) -> Any:
        """The database value of a JSON payload that many rows share, encoded once."""
        if key not in self._encoded:
            self._encoded[key] = self.json(value)
        return self._encoded[key]

    def number(self, type_key: str) -> str:
        n = self.next_number[type_key]
        self.next_number[type_key] = n + 1
        return self.types[type_key].format_number(n)

    def ticket(
        self, type_key: str, inquiry: catalog.Inquiry, fields: dict[str, Any], opened: float,
        life: Life, assignee: int | None, *, origin: int | None = None,
    ) -> tuple[int, str]:  # fmt: skip
        ticket_id, number = self.next_id, self.number(type_key)
        self.next_id += 1
        is_case = origin is None
        self.tickets.add(
            ticket_id, number, type_key, fields["subject"], fields["description"], life.status,
            fields["priority"], self.types[type_key].team_id, assignee, fields["organization"],
            fields["requester"], fields["channel"], fields["environment"],
            None if is_case else inquiry.category, origin,
            "" if is_case else inquiry.reason, self.dt(opened), self.dt(life.updated),
            self.dt(life.resolved), self.dt(life.closed),
        )  # fmt: skip
        data: dict[str, Any] = {"channel": fields["channel"], "priority": fields["priority"]}
        if is_case:
            opened_data = self.encoded(("opened", fields["channel"], fields["priority"]), data)
        else:
            data = {"origin": fields["case_number"], "reason": inquiry.reason,
                    "category": inquiry.category, **data}  # fmt: skip
            opened_data = self.json(data)
        if is_case:
            self.clocks.first_response(ticket_id, fields["channel"], opened, life.assigned)
        else:
            first_contact = fields["case_opened"]
            self.clocks.escalation(ticket_id, fields["priority"], first_contact, life.assigned)
        opener = fields["requester"] if is_case and fields["channel"] != "phone" else assignee
        self.events.add(ticket_id, "ticket.opened", opener, opened_data, self.dt(opened))
        if life.status != "new":
            before = BEFORE[life.status]
            changed = self.encoded((before, life.status), {"before": before, "after": life.status})
            self.events.add(
                ticket_id,
                "ticket.status_changed",
                assignee,
                changed,
                self.dt(life.updated),
            )
            if is_case:
                template = self.rng.choice(catalog.ACKNOWLEDGEMENTS)
            else:
                template = catalog.ESCALATION_FIRST[type_key]
            body = template.format(
                name=fields["contact_name"].split()[0],
                number=number,
                agent=self.names.get(assignee or 0, ""),
                origin=fields.get("case_number", ""),
            )
            self.messages.add(ticket_id, "reply", assignee, "email", body, self.dt(life.assigned))
        self.written += 1
        return ticket_id, number

    def flush(self) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            tables = (self.tickets, self.events, self.messages, self.orders, self.clocks.table)
            for table in tables:
                table.write(cursor)

    def finish(self) -> None:
        self.flush()
        for key, n in self.next_number.items():
            if n != self.first_number[key]:
                TicketCounter.objects.update_or_create(
                    ticket_type_id=key, defaults={"next_number": n}
                )
        refresh_due_times()  # the clocks went in as rows; the tickets' due times follow them
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(
                no_style(), [Ticket, Event, Message, WorkOrder, Clock]
            ):
                cursor.execute(sql)


def _plan_kinds(rng: random.Random, tickets: int) -> list[int]:
    """Which inquiry each case is (an index into INQUIRIES), so the tickets add up exactly."""
    kinds: list[int] = []
    total = 0
    while total < tickets:
        roll = rng.random()
        if roll < 0.5 or total + 2 > tickets:
            kinds.append(rng.randrange(FIRST_TS))
            total += 1
        else:
            kinds.append(rng.randrange(FIRST_TS, len(INQUIRIES)))
            total += 2
    return kinds


def write_bulk(
    cast: Cast, tickets: int, *, seed: int, end: datetime, progress: bool, batch: int = 10_000
) -> None:
    rng = random.Random(seed)
    kinds = _plan_kinds(rng, tickets)
    times = arrivals(rng, len(kinds), end=end)
    w = Writer(cast, rng, end.timestamp())
    pending: list[tuple[float, int, dict[str, Any]]] = []  # escalations, by when they happen
    meter = tqdm(total=tickets, unit="tickets", disable=not progress, smoothing=0.1)

    def escalation_due(until: float) -> None:
        while pending and pending[0][0] <= until:
            _at, _seq, esc = heapq.heappop(pending)
            ticket_id, _number = w.ticket(
                esc["type"],
                esc["inquiry"],
                esc["fields"],
                esc["at"],
                esc["life"],
                esc["assignee"],
                origin=esc["origin"],
            )
            if esc["order"]:
                w.orders.add(ticket_id, *esc["order"])

    for seq, (kind, opened) in enumerate(zip(kinds, times, strict=True)):
        escalation_due(opened)
        _case(w, kind, opened, seq, pending)
        if w.written >= batch:
            meter.update(w.written)
            w.written = 0
            w.flush()
    escalation_due(float("inf"))
    meter.update(w.written)
    w.finish()
    meter.close()


def _case(w: Writer, kind: int, opened: float, seq: int, pending: list[Any]) -> None:
    rng, end = w.rng, w.end
    inquiry = INQUIRIES[kind]
    org = rng.randrange(len(w.contacts))
    contact = rng.choice(w.contacts[org])
    environment = rng.choice(w.envs[org]) if rng.random() < 0.8 else None
    channel = rng.choices(("email", "phone", "portal", "api"), (45, 35, 15, 5))[0]
    if channel == "phone":
        answered = opened + rng.uniform(0.5, 3) * MINUTE
    else:
        # Mail waits for the monitored hours, then is answered within the guide's ten minutes.
        answered = (w.opening(opened) or opened) + rng.uniform(1, 9) * MINUTE
    subject_fields = {
        "person": contact.name,
        "campaign": rng.choice(catalog.CAMPAIGNS),
        "environment": environment or "our environment",
        "clock": datetime.fromtimestamp(opened, EASTERN).strftime("%H:%M ET"),
    }
    fields: dict[str, Any] = {
        "subject": inquiry.subject.format(**subject_fields),
        "description": inquiry.description.format(**subject_fields),
        "priority": rng.choice(inquiry.priorities),
        "organization": w.cast.organizations[org].pk,
        "requester": contact.pk,
        "contact_name": contact.name,
        "channel": channel,
        "environment": environment,
    }
    agent = w.desk_agent(answered)
    if inquiry.to is None:
        fresh = end - answered < 12 * HOUR and rng.random() < 0.5
        waiting = rng.random() < 0.35
        resolve = (
            answered
            + rng.uniform(20, 8 * 60) * MINUTE
            + (rng.uniform(0.5, 20) * HOUR if waiting else 0)
        )
        life = w.life(opened, None if fresh else answered, resolve, waiting=waiting)
        w.ticket("customer-care", inquiry, fields, opened, life, agent if life.assigned else None)
        return
    # An escalation: always answered first; recent ones escalate sooner so they fit before now.
    urgent = fields["priority"] in ("high", "critical")
    answered = min(answered, opened + (end - opened) * 0.3)
    delay = rng.uniform(5, 40) * MINUTE if urgent else rng.uniform(30, 200) * MINUTE
    escalated = min(answered + delay, answered + (end - answered) * 0.5)
    to = inquiry.to or ""
    role = "engineer" if to == "technical-support" else "coordinator"
    owner = rng.choice(w.staff[role])
    taken = escalated + (rng.uniform(5, 40) if urgent else rng.uniform(15, 180)) * MINUTE
    needs_order = inquiry.category in w.work_order
    if role == "engineer":
        work = rng.uniform(1, 30) * HOUR
    else:
        work = rng.uniform(3, 12) * DAY if needs_order else rng.uniform(4, 120) * HOUR
    waiting = rng.random() < 0.3
    esc_life = w.life(escalated, taken, taken + work, waiting=waiting)
    if esc_life.resolved is None:
        case_life = Life("escalated", answered, None, None, escalated)
    else:
        case_life = w.life(
            opened, answered, esc_life.resolved + rng.uniform(10, 90) * MINUTE, waiting=False
        )
        if case_life.closed is not None and esc_life.status == "closed":
            esc_life.closed = case_life.closed
            esc_life.updated = case_life.closed
    case_id, case_number = w.ticket("customer-care", inquiry, fields, opened, case_life, agent)
    w.events.add(
        case_id,
        "ticket.escalated",
        agent,
        w.json({"to": to, "reason": inquiry.reason}),
        w.dt(escalated),
    )
    esc_fields = {**fields, "case_number": case_number, "case_opened": opened}
    order = None
    if needs_order and esc_life.assigned is not None:
        order = _work_order(w, esc_life, taken, fields["contact_name"])
    heapq.heappush(
        pending,
        (escalated, seq, {
            "type": to, "inquiry": inquiry, "fields": esc_fields, "at": escalated,
            "life": esc_life, "assignee": owner if esc_life.assigned else None,
            "origin": case_id, "order": order,
        }),
    )  # fmt: skip


def _work_order(w: Writer, life: Life, taken: float, requested_by: str) -> tuple[Any, ...] | None:
    """The work order row (without its ticket id yet) for an escalation in that state."""
    rng = w.rng
    drafted = taken + rng.uniform(1, 20) * HOUR
    if drafted > w.end:
        return None
    approved = scheduled = done = None
    if life.resolved is not None:
        state, done = "done", life.resolved - rng.uniform(10, 60) * MINUTE
        approved = drafted + (done - drafted) * 0.3
        scheduled = done - rng.uniform(0.5, 4) * HOUR
    else:
        state = rng.choices(
            ("draft", "sent", "approved", "declined", "scheduled"), (2, 3, 2, 1, 3)
        )[0]
        if state in ("approved", "scheduled"):
            approved = drafted + (w.end - drafted) * 0.5
        if state == "scheduled":
            scheduled = w.end + rng.uniform(1, 6) * DAY
    return (
        rng.choice(catalog.WORK_ORDER_SCOPES), requested_by, rng.choice(catalog.ESTIMATES), state,
        "Too broad; phase it." if state == "declined" else "", w.dt(scheduled), w.dt(approved),
        w.dt(done), w.dt(drafted), w.dt(min(life.updated, w.end)),
    )  # fmt: skip
