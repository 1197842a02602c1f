"""The rules of SLA clocks. tickets.services calls these at each change; nothing else
starts, pauses or stops a clock.

First response: from receipt to the first human public reply, per channel (the phone's
clock runs from ring to answer). Escalation: from the case's first contact until the
escalated ticket is assigned to a named agent, per priority; an inquiry that arrives
outside staffed hours is under emergency staffing, with the model's emergency target.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, OuterRef, Subquery

from caredesk.core.clock import now
from caredesk.people.models import User
from caredesk.servicemodel.cache import snapshot
from caredesk.servicemodel.choices import Channel, SlaTarget
from caredesk.sla import explain
from caredesk.sla.business_time import add_business_time, business_time_between, is_open
from caredesk.sla.calendars import calendar_for
from caredesk.sla.models import Clock, Outcome
from caredesk.tickets.events import record
from caredesk.tickets.models import Ticket
from caredesk.tickets.states import Status


@dataclass(frozen=True)
class Due:
    """When a clock started under these terms is due, and why."""

    kind: str
    calendar: str
    target: timedelta
    started_at: datetime
    due_at: datetime
    warn_at: datetime
    emergency: bool
    explanation: str


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _paused_time(calendar: str, pauses: list[list[str | None]], until: datetime) -> timedelta:
    cal = calendar_for(calendar)
    total = timedelta()
    for start, end in pauses:
        assert start is not None
        total += business_time_between(cal, _parse(start), _parse(end) if end else until)
    return total


def emergency_staffing(at: datetime) -> bool:
    """Outside staffed hours: Emergency Care answers, and the emergency targets apply."""
    key = snapshot().settings.emergency_calendar_id
    return key is not None and not is_open(calendar_for(key), at)


def terms(
    kind: str, *, channel: str, priority: str, started_at: datetime
) -> tuple[str, timedelta, bool]:
    """The calendar, target and emergency flag of a clock, from the service model."""
    if kind == SlaTarget.FIRST_RESPONSE:
        row = snapshot().channels[channel]
        return row.first_response_calendar_id, row.first_response_target, False
    level = snapshot().priorities[priority]
    emergency = emergency_staffing(started_at)
    target = level.emergency_escalation_target if emergency else level.escalation_target
    return level.escalation_calendar_id, target, emergency


def compute_due(
    kind: str,
    *,
    channel: str,
    priority: str,
    started_at: datetime,
    pauses: list[list[str | None]] | None = None,
) -> Due:
    """The due time of a clock, and its explanation, from the same functions everywhere."""
    calendar, target, emergency = terms(
        kind, channel=channel, priority=priority, started_at=started_at
    )
    cal = calendar_for(calendar)
    paused = _paused_time(calendar, pauses or [], started_at) if pauses else timedelta()
    due_at = add_business_time(cal, started_at, target + paused)
    ratio = snapshot().settings.warning_ratio
    warn_at = add_business_time(cal, started_at, target * ratio + paused)
    text = explain.explain(
        target=kind,
        channel=channel,
        priority=priority,
        received=started_at,
        calendar=cal,
        duration=target,
        due=due_at,
        emergency=emergency,
    )
    return Due(kind, calendar, target, started_at, due_at, warn_at, emergency, text)


def _clock(
    kind: str,
    *,
    channel: str,
    priority: str,
    started_at: datetime,
    stopped_at: datetime | None = None,
) -> Clock:
    """A new clock, not yet saved: running, or already stopped (a call answered at once)."""
    due = compute_due(kind, channel=channel, priority=priority, started_at=started_at)
    late = stopped_at is not None and stopped_at > due.due_at
    return Clock(
        kind=kind,
        calendar_id=due.calendar,
        target=due.target,
        started_at=started_at,
        due_at=due.due_at,
        warn_at=due.warn_at,
        emergency=due.emergency,
        explanation=due.explanation,
        stopped_at=stopped_at,
        outcome="" if stopped_at is None else Outcome.BREACHED if late else Outcome.MET,
        breached_at=due.due_at if late else None,
    )


def _start(
    ticket: Ticket, kind: str, *, started_at: datetime, stopped_at: datetime | None = None
) -> Clock:
    """A new clock on the ticket, saved."""
    clock = _clock(
        kind,
        channel=ticket.channel,
        priority=ticket.priority,
        started_at=started_at,
        stopped_at=stopped_at,
    )
    clock.ticket = ticket
    clock.save(force_insert=True)
    return clock


def _stop(clock: Clock, at: datetime) -> None:
    if clock.paused:
        clock.pauses[-1][1] = at.isoformat()
        _recompute(clock, clock.ticket, at)
    clock.stopped_at = at
    if not clock.outcome:
        late = clock.due_at is not None and at > clock.due_at
        clock.outcome = Outcome.BREACHED if late else Outcome.MET
        clock.breached_at = clock.due_at if late else None
    clock.save()


def _recompute(clock: Clock, ticket: Ticket, at: datetime) -> None:
    """New due and warning times after a pause ends or the priority changes."""
    if clock.paused:
        clock.due_at = clock.warn_at = None
        return
    due = compute_due(
        clock.kind,
        channel=ticket.channel,
        priority=ticket.priority,
        started_at=clock.started_at,
        pauses=clock.pauses,
    )
    clock.calendar_id, clock.target, clock.emergency = due.calendar, due.target, due.emergency
    clock.due_at, clock.warn_at, clock.explanation = due.due_at, due.warn_at, due.explanation


def _sync_due(ticket: Ticket) -> None:
    """Keep Ticket.sla_due_at, the earliest due time of its running clocks, in step."""
    due = (
        Clock.objects.filter(ticket=ticket, stopped_at__isnull=True, due_at__isnull=False)
        .order_by("due_at")
        .values_list("due_at", flat=True)
        .first()
    )
    Ticket.objects.filter(pk=ticket.pk).update(sla_due_at=due)
    ticket.sla_due_at = due


def refresh_due_times() -> int:
    """Set every ticket's sla_due_at from its clocks in one statement (after a bulk load)."""
    running = Clock.objects.filter(stopped_at__isnull=True, due_at__isnull=False)
    earliest = running.filter(ticket=OuterRef("pk")).order_by("due_at").values("due_at")[:1]
    Ticket.objects.exclude(sla_due_at=None).update(sla_due_at=None)
    return Ticket.objects.filter(pk__in=running.values("ticket_id")).update(
        sla_due_at=Subquery(earliest)
    )


def _running(ticket: Ticket, kind: str | None = None) -> list[Clock]:
    clocks = Clock.objects.filter(ticket=ticket, stopped_at__isnull=True)
    if kind:
        clocks = clocks.filter(kind=kind)
    return list(clocks)


# --- called by tickets.services --------------------------------------------------------


def opening_clock(
    *, channel: str, priority: str, at: datetime, answered_at: datetime | None = None
) -> Clock:
    """The first-response clock of a case about to be opened, not yet saved, so the case's
    row is written with its due time (`case_due`). A phone case is opened by the
    representative who answered, so its clock runs from ring (`at`) to answer."""
    answered = (answered_at or at) if channel == Channel.PHONE else None
    return _clock(
        SlaTarget.FIRST_RESPONSE,
        channel=channel,
        priority=priority,
        started_at=at,
        stopped_at=answered,
    )


def case_due(clock: Clock) -> datetime | None:
    """A new case's `sla_due_at`: it has this one clock, so its due time while it runs."""
    return clock.due_at if clock.stopped_at is None else None


def case_opened(ticket: Ticket, clock: Clock) -> None:
    """Start the new case's first-response clock (from `opening_clock`)."""
    clock.ticket = ticket
    clock.save(force_insert=True)
    # Whoever answers with the case needs not read its clock back.
    ticket.clock_list = [clock]  # type: ignore[attr-defined]


def public_reply(ticket: Ticket, *, actor: User | None, at: datetime) -> None:
    """A human agent's public reply answers the customer; automatic messages do not."""
    if actor is None or not actor.is_agent:
        return
    stopped = _running(ticket, SlaTarget.FIRST_RESPONSE)
    for clock in stopped:
        _stop(clock, at)
    if stopped:
        _sync_due(ticket)


def escalated(case: Ticket, ticket: Ticket, *, at: datetime) -> None:
    """The escalation clock runs from the case's first contact on the escalated ticket."""
    _start(ticket, SlaTarget.ESCALATION, started_at=case.created_at)
    _sync_due(ticket)


def assigned(ticket: Ticket, *, agent: User | None, at: datetime) -> None:
    """Assigning the escalated ticket to a named agent meets (or ends) its escalation clock."""
    if agent is None:
        return
    stopped = _running(ticket, SlaTarget.ESCALATION)
    for clock in stopped:
        _stop(clock, at)
    if stopped:
        _sync_due(ticket)


def priority_changed(ticket: Ticket, *, at: datetime) -> None:
    changed = _running(ticket, SlaTarget.ESCALATION)
    for clock in changed:
        _recompute(clock, ticket, at)
        clock.save()
    if changed:
        _sync_due(ticket)


def status_changed(ticket: Ticket, *, before: str, after: str, at: datetime) -> None:
    """Waiting on the customer pauses the targets the model names; leaving it resumes
    them; resolving or closing stops every running clock."""
    if after in (Status.RESOLVED, Status.CLOSED):
        for clock in _running(ticket):
            _stop(clock, at)
        # Unconditionally: the instance in hand may predate the clock that set the column.
        Ticket.objects.filter(pk=ticket.pk).exclude(sla_due_at=None).update(sla_due_at=None)
        ticket.sla_due_at = None
        return
    pausing = set(snapshot().settings.pause_when_waiting)
    if Status.WAITING_ON_CUSTOMER not in (before, after) or not pausing:
        return
    for clock in _running(ticket):
        if clock.kind not in pausing:
            continue
        if after == Status.WAITING_ON_CUSTOMER and not clock.paused:
            clock.pauses = [*clock.pauses, [at.isoformat(), None]]
        elif before == Status.WAITING_ON_CUSTOMER and clock.paused:
            clock.pauses[-1][1] = at.isoformat()
        _recompute(clock, ticket, at)
        clock.save()
    _sync_due(ticket)


def clock_json(clock: Clock, at: datetime | None = None) -> dict[str, object]:
    return {
        "kind": clock.kind,
        "started_at": clock.started_at,
        "due_at": clock.due_at,
        "stopped_at": clock.stopped_at,
        "outcome": clock.outcome_at(at or now()) or None,
        "explanation": clock.explanation,
    }


# --- the sweep ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepResult:
    warned: list[int]
    breached: list[int]


def sweep(*, at: datetime | None = None, limit: int = 1000) -> SweepResult:
    """Mark the clocks that reached their warning or due time, each exactly once.

    Several workers may sweep at the same time: each clock is claimed with a conditional
    UPDATE, and only the worker whose UPDATE changed the row writes the event and notifies.
    """
    at = at or now()
    warned: list[int] = []
    breached: list[int] = []
    candidates = (
        Clock.objects.filter(stopped_at__isnull=True, warned_at__isnull=True, warn_at__lte=at)
        .order_by("warn_at")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in list(candidates):
        with transaction.atomic():
            if Clock.objects.filter(pk=pk, warned_at__isnull=True).update(warned_at=at):
                clock = Clock.objects.select_related("ticket").get(pk=pk)
                record(clock.ticket, "sla.warning", actor=None, at=at, **_notice(clock))
                _notify_on_commit(clock, "warning")
                warned.append(pk)
    candidates = (
        Clock.objects.filter(
            stopped_at__isnull=True, breach_noticed_at__isnull=True, due_at__lte=at
        )
        .order_by("due_at")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in list(candidates):
        with transaction.atomic():
            claimed = Clock.objects.filter(pk=pk, breach_noticed_at__isnull=True).update(
                breach_noticed_at=at, outcome=Outcome.BREACHED, breached_at=F("due_at")
            )
            if claimed:
                clock = Clock.objects.select_related("ticket").get(pk=pk)
                record(clock.ticket, "sla.breached", actor=None, at=at, **_notice(clock))
                _notify_on_commit(clock, "breach")
                breached.append(pk)
    return SweepResult(warned, breached)


def _notice(clock: Clock) -> dict[str, object]:
    return {
        "clock": clock.kind,
        "due_at": clock.due_at.isoformat() if clock.due_at else None,
        "emergency": clock.emergency,
        "explanation": clock.explanation,
    }


def _notify_on_commit(clock: Clock, what: str) -> None:
    from caredesk.sla import tasks

    transaction.on_commit(lambda: tasks.notify_clock(clock.pk, what))
