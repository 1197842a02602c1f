"""SLA clock rows for the bulk demo, as `sla.services` would have left them.

A case's first-response clock runs from first contact to the first human reply (a phone
case is opened by the representative who answered, so it stops at once); an escalated
ticket's escalation clock runs from the case's first contact until it is assigned. Due
times come from the same business-time arithmetic and the model's targets; only the
explanation text is left out, to keep a million tickets within minutes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection

from caredesk.core.demo.rows import Table
from caredesk.servicemodel.choices import SlaTarget
from caredesk.servicemodel.models import ChannelTarget, PriorityLevel, ServiceSettings
from caredesk.sla.business_time import WeeklyCalendar, add_business_time, is_open
from caredesk.sla.calendars import calendar_for
from caredesk.sla.models import Clock, Outcome

COLUMNS = (
    "ticket_id", "kind", "calendar_id", "target", "started_at", "due_at", "warn_at",
    "stopped_at", "outcome", "breached_at", "emergency",
)  # fmt: skip


class ClockRows:
    def __init__(self, dt: Any) -> None:
        self.dt = dt
        self.table = Table(Clock, COLUMNS)
        settings = ServiceSettings.current()
        self.ratio = settings.warning_ratio
        key = settings.emergency_calendar_id
        self.emergency_calendar = calendar_for(key) if key else None
        self.channels = {
            row.key: (row.first_response_calendar_id, row.first_response_target)
            for row in ChannelTarget.objects.all()
        }
        self.levels = {row.key: row for row in PriorityLevel.objects.all()}
        self.calendars: dict[str, WeeklyCalendar] = {}
        target = Clock._meta.get_field("target")
        self._duration: dict[timedelta, Any] = {}  # a target as the database keeps it
        for delta in [t for _, t in self.channels.values()] + [
            t for row in self.levels.values() for t in (row.escalation_target,
                                                        row.emergency_escalation_target)
        ]:  # fmt: skip
            self._duration[delta] = target.get_db_prep_save(delta, connection)

    def _calendar(self, key: str) -> WeeklyCalendar:
        if key not in self.calendars:
            self.calendars[key] = calendar_for(key)
        return self.calendars[key]

    def _add(
        self, ticket_id: int, kind: str, calendar: str, target: timedelta, started: float,
        stopped: float | None, emergency: bool,
    ) -> None:  # fmt: skip
        cal = self._calendar(calendar)
        start = datetime.fromtimestamp(started, UTC)
        due = add_business_time(cal, start, target).timestamp()
        warn = None
        outcome, breached = "", None
        if stopped is None:
            # Only a running clock is still waited for: its warning time matters to the sweep.
            warn = add_business_time(cal, start, target * self.ratio).timestamp()
        elif stopped > due:
            outcome, breached = Outcome.BREACHED, due
        else:
            outcome = Outcome.MET
        dt = self.dt
        self.table.add(
            ticket_id, kind, calendar, self._duration[target], dt(started), dt(due), dt(warn),
            dt(stopped), outcome, dt(breached), emergency,
        )  # fmt: skip

    def first_response(
        self, ticket_id: int, channel: str, opened: float, answered: float | None
    ) -> None:
        if channel not in self.channels:
            return
        calendar, target = self.channels[channel]
        stopped = opened if channel == "phone" else answered
        self._add(ticket_id, SlaTarget.FIRST_RESPONSE, calendar, target, opened, stopped, False)

    def escalation(
        self, ticket_id: int, priority: str, first_contact: float, assigned: float | None
    ) -> None:
        level = self.levels.get(priority)
        if level is None:
            return
        emergency = self.emergency_calendar is not None and not is_open(
            self.emergency_calendar, datetime.fromtimestamp(first_contact, UTC)
        )
        target = level.emergency_escalation_target if emergency else level.escalation_target
        self._add(
            ticket_id, SlaTarget.ESCALATION, level.escalation_calendar_id, target,
            first_contact, assigned, emergency,
        )  # fmt: skip
