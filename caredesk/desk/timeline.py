"""A ticket's timeline: its messages and the events of its log, in the order they happened."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import dateformat, timezone

from caredesk.mail.flags import describe as describe_flags
from caredesk.servicemodel.choices import Channel, Priority, SlaTarget
from caredesk.tickets.models import Event, Message, WorkOrder
from caredesk.tickets.states import Status

# Messages stand for themselves in the timeline; their events would say it twice.
SHOWN_AS_MESSAGES = frozenset({"ticket.replied", "ticket.noted"})


@dataclass(frozen=True)
class Entry:
    at: datetime
    message: Message | None = None
    event: Event | None = None
    text: str = ""
    link: str | None = None  # a ticket number the event names
    detail: str = ""


def _label(choices: Any, value: object) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def describe(event: Event) -> tuple[str, str | None, str]:
    """What an event says in words: (text, linked ticket number, detail)."""
    data: dict[str, Any] = event.data or {}
    kind = event.kind
    if kind == "ticket.opened":
        if data.get("origin"):
            return "opened this escalation from", data["origin"], data.get("reason", "")
        channel = _label(Channel, data.get("channel", ""))
        return f"opened the ticket ({channel})", None, ""
    if kind == "ticket.status_changed":
        before, after = _label(Status, data.get("before")), _label(Status, data.get("after"))
        if data.get("escalation"):
            return f"status {before} → {after}, with", data["escalation"], ""
        return f"status {before} → {after}", None, ""
    if kind == "ticket.assigned":
        agent = data.get("after")
        return (f"assigned to {agent}" if agent else "removed the assignee"), None, ""
    if kind == "ticket.priority_changed":
        before, after = _label(Priority, data.get("before")), _label(Priority, data.get("after"))
        return f"priority {before} → {after}", None, ""
    if kind == "ticket.escalated":
        return "escalated as", data.get("ticket"), data.get("reason", "")
    if kind.startswith("call."):
        from caredesk.phone.timeline import describe_call

        return describe_call(kind, data)
    if kind == "work_order.drafted":
        return "drafted the work order", None, data.get("scope", "")
    if kind.startswith("work_order."):
        state = _label(WorkOrder.State, kind.partition(".")[2])
        return f"work order: {state}", None, data.get("note") or ""
    if kind.startswith(("mail.", "escalation.")):
        return _mail(kind, data)
    if kind in ("sla.warning", "sla.breached"):
        return _sla(kind, data)
    return kind.replace(".", " ").replace("_", " "), None, ""


def _sla(kind: str, data: dict[str, Any]) -> tuple[str, str | None, str]:
    """The sweep's warning and breach notices (caredesk.sla.services records these)."""
    target = _label(SlaTarget, data.get("clock", "")).lower().replace(" ", "-")
    if data.get("emergency"):
        target = f"Emergency Care {target}"
    due = ""
    if data.get("due_at"):
        at = timezone.localtime(datetime.fromisoformat(data["due_at"]))
        due = f" (due {dateformat.format(at, 'M j, g:i A')})"
    if kind == "sla.warning":
        return f"warned that the {target} target is close{due}", None, ""
    return f"marked the {target} target missed{due}", None, ""


def _mail(kind: str, data: dict[str, Any]) -> tuple[str, str | None, str]:
    """Outbound mail on the timeline (caredesk.mail.outbound records these)."""
    to = ", ".join(data.get("to") or []) or "the customer"
    if data.get("cc"):
        to += " (copied to " + ", ".join(data["cc"]) + ")"
    what = "the acknowledgement" if data.get("kind") == "acknowledgement" else "an email"
    if kind == "mail.sent":
        later = f" after {data.get('attempts')} attempts" if data.get("after_failures") else ""
        return f"sent {what} to {to}{later}", None, ""
    if kind == "mail.failed":
        return f"could not send {what} to {to} yet; retrying", None, data.get("error", "")
    if kind == "mail.rejected":
        return f"{what} to {to} was refused by the mail server", None, data.get("error", "")
    if kind == "mail.flagged":
        return "opened from a flagged email", None, describe_flags(data)
    if kind == "mail.auto_reply":
        sender = data.get("sender") or "the customer"
        return (
            f"automatic reply from {sender}, kept (reopens nothing)",
            None,
            data.get("subject", ""),
        )
    if kind == "mail.bounced":
        status = f" ({data['status']})" if data.get("status") else ""
        return f"an email to {data.get('recipient') or to} bounced{status}", None, ""
    if kind == "mail.cc_added":
        return f"copied {data.get('address')} on the email replies", None, ""
    if kind == "mail.cc_removed":
        return f"stopped copying {data.get('address')} on the email replies", None, ""
    if kind == "escalation.first_contact":
        return "first contact with the customer on this escalation (email)", None, ""
    return kind.replace(".", " ").replace("_", " "), None, ""


def build(messages: Sequence[Message], events: Sequence[Event]) -> list[Entry]:
    entries = [Entry(at=m.created_at, message=m) for m in messages]
    for event in events:
        if event.kind in SHOWN_AS_MESSAGES:
            continue
        text, link, detail = describe(event)
        entries.append(Entry(at=event.created_at, event=event, text=text, link=link, detail=detail))
    # Stable sort: at equal times messages come before the events they caused.
    entries.sort(key=lambda e: e.at)
    return entries
