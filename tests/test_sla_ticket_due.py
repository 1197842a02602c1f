"""Ticket.sla_due_at follows the earliest due time of the ticket's running clocks through
every service that starts, stops, pauses or recomputes a clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine

from caredesk.servicemodel.choices import Channel
from caredesk.sla.models import Clock
from caredesk.sla.services import refresh_due_times
from caredesk.tickets import services
from caredesk.tickets.models import Ticket

TUESDAY_10 = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)  # 10:00 in New York


def earliest_running(ticket: Ticket) -> datetime | None:
    dues = Clock.objects.filter(ticket=ticket, stopped_at=None).exclude(due_at=None)
    return min((c.due_at for c in dues), default=None)


def stored(ticket: Ticket) -> datetime | None:
    return Ticket.objects.get(pk=ticket.pk).sla_due_at


def test_due_time_follows_the_clocks(rep, engineer, alice):
    with time_machine.travel(TUESDAY_10, tick=False) as clock:
        case = services.open_case(
            actor=rep, subject="Dialer down", channel=Channel.EMAIL, requester=alice
        )
        assert stored(case) == TUESDAY_10 + timedelta(minutes=10) == earliest_running(case)
        services.reply(case, actor=rep, body="Looking.", channel=Channel.EMAIL)
        assert stored(case) is None

        tsup = services.escalate(case, actor=rep, to="technical-support", reason="outage")
        assert stored(tsup) is not None and stored(tsup) == earliest_running(tsup)
        before = stored(tsup)
        services.set_priority(tsup, actor=rep, priority="critical")
        assert stored(tsup) == earliest_running(tsup) != before

        services.set_status(tsup, actor=rep, status="waiting_on_customer")
        assert stored(tsup) == earliest_running(tsup)
        clock.shift(timedelta(minutes=20))
        services.set_status(tsup, actor=rep, status="open")
        assert stored(tsup) == earliest_running(tsup) is not None

        services.assign(tsup, actor=rep, agent=engineer)
        assert stored(tsup) is None

        other = services.open_case(
            actor=rep, subject="Reports", channel=Channel.EMAIL, requester=alice
        )
        services.resolve(other, actor=rep)
        assert stored(other) is None


def test_refresh_sets_every_ticket_from_its_clocks(rep, alice):
    with time_machine.travel(TUESDAY_10, tick=False):
        case = services.open_case(
            actor=rep, subject="Dialer down", channel=Channel.EMAIL, requester=alice
        )
        Ticket.objects.update(sla_due_at=None)
        assert refresh_due_times() == 1
        assert stored(case) == earliest_running(case)


def test_resolving_through_an_instance_read_before_the_clock_clears_it(rep, alice):
    with time_machine.travel(TUESDAY_10, tick=False):
        case = services.open_case(
            actor=rep, subject="Dialer down", channel=Channel.PHONE, requester=alice
        )
        tsup = services.escalate(case, actor=rep, to="technical-support", reason="outage")
        stale_tsup = Ticket.objects.get(pk=tsup.pk)
        stale_tsup.sla_due_at = None  # as read before the escalation clock started
        services.resolve(stale_tsup, actor=rep)
        assert stored(tsup) is None
