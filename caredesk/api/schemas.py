"""The API's request and response shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Schema
from pydantic import BaseModel, Field

from caredesk.sla.models import Clock
from caredesk.sla.services import clock_json
from caredesk.tickets.models import Attachment, Event, Message, Ticket, WorkOrder
from caredesk.tickets.services import MAX_TEXT

# Written text must hold something besides white space; bodies stay under MAX_TEXT
# characters (a bigger request is refused with a clear 422, not stored).
TEXT = r"\S"


class ErrorOut(Schema):
    message: str
    field: str | None = None


# Tickets are answered as dicts (ticket_json), so their shapes are plain pydantic models:
# ninja's Schema wraps every input in an attribute getter, which cost 2 ms of a 50-ticket page.
class ClockOut(BaseModel):
    kind: str
    started_at: datetime
    due_at: datetime | None
    stopped_at: datetime | None
    outcome: str | None
    explanation: str


class TicketOut(BaseModel):
    number: str
    type: str
    subject: str
    description: str
    status: str
    priority: str
    team: str
    assignee: str | None
    organization: str | None
    requester: str | None
    channel: str
    environment: str | None
    category: str | None
    origin: str | None
    escalations: list[str]
    created_at: datetime
    updated_at: datetime
    clocks: list[ClockOut]


class TicketPage(BaseModel):
    items: list[TicketOut]
    next: str | None


class TicketIn(Schema):
    subject: str = Field(min_length=1, max_length=300, pattern=TEXT)
    description: str = Field("", max_length=MAX_TEXT)
    priority: Literal["low", "medium", "high", "critical"] | None = None
    channel: Literal["email", "phone", "portal", "api"] = "api"
    environment: str | None = None
    requester: str | None = Field(None, description="The contact's email (agents only).")
    requester_name: str = Field("", max_length=200)
    organization: str | None = Field(None, description="An organization key (agents only).")


class MessageIn(Schema):
    body: str = Field(min_length=1, max_length=MAX_TEXT, pattern=TEXT)


class AttachmentOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int
    url: str = Field(description="Download it with the same token (always a download).")


class MessageOut(Schema):
    id: int
    kind: str
    author: str | None
    channel: str
    body: str
    created_at: datetime
    attachments: list[AttachmentOut] = []


class MessagePage(Schema):
    items: list[MessageOut]
    next: str | None


class EscalateIn(Schema):
    to: str = Field(description="technical-support or project-coordination")
    reason: str = Field(min_length=1, max_length=MAX_TEXT, pattern=TEXT)
    category: str | None = None
    priority: Literal["low", "medium", "high", "critical"] | None = None


class AssignIn(Schema):
    agent: str | None = Field(description="The agent's email; null to unassign.")


class PriorityIn(Schema):
    priority: str


class StatusIn(Schema):
    status: str


class WorkOrderIn(Schema):
    action: Literal["draft", "send", "approve", "decline", "revise", "schedule", "done"] = "draft"
    scope: str = ""
    requested_by: str = ""
    estimate: str = ""
    note: str = ""
    scheduled_for: datetime | None = None


class WorkOrderOut(Schema):
    ticket: str
    state: str
    scope: str
    requested_by: str
    estimate: str
    decision_note: str
    scheduled_for: datetime | None
    approved_at: datetime | None
    done_at: datetime | None
    created_at: datetime
    updated_at: datetime


class EventOut(Schema):
    id: int
    kind: str
    actor: str | None
    data: dict[str, object]
    created_at: datetime


class EventPage(Schema):
    items: list[EventOut]
    next: str | None


class TriageOut(Schema):
    to: str | None
    category: str | None
    reason: str


def _escalations(t: Ticket) -> list[Ticket]:
    # Oldest first. Lists prefetch them into `escalation_list` (api.tickets._with_relations);
    # a single ticket may come without, and then they are read here, sorted here.
    prefetched = getattr(t, "escalation_list", None)
    if prefetched is not None:
        return prefetched
    return sorted(t.escalations.all(), key=lambda e: e.pk)


def ticket_json(t: Ticket, *, escalations: list[str] | None = None) -> dict[str, object]:
    """A ticket as the API shows it; expects assignee, requester, organization and origin
    selected and escalations prefetched (or their numbers given), so a page of tickets costs
    a fixed number of queries."""
    if escalations is None:
        escalations = [e.number for e in _escalations(t)]
    return {
        "number": t.number,
        "type": t.type_id,
        "subject": t.subject,
        "description": t.description,
        "status": t.status,
        "priority": t.priority,
        "team": t.team_id,
        "assignee": t.assignee.email if t.assignee_id and t.assignee else None,
        "organization": t.organization.key if t.organization_id and t.organization else None,
        "requester": t.requester.email if t.requester_id and t.requester else None,
        "channel": t.channel,
        "environment": t.environment_id,
        "category": t.category_id,
        "origin": t.origin.number if t.origin_id and t.origin else None,
        "escalations": escalations,
        "created_at": t.created_at,
        "updated_at": t.updated_at,
        "clocks": [clock_json(c) for c in _clocks(t)],
    }


def _clocks(t: Ticket) -> list[Clock]:
    prefetched = getattr(t, "clock_list", None)
    return prefetched if prefetched is not None else list(t.clocks.order_by("id"))


def message_json(m: Message) -> dict[str, object]:
    return {
        "id": m.pk,
        "kind": m.kind,
        "author": m.author.email if m.author_id and m.author else None,
        "channel": m.channel,
        "body": m.body,
        "created_at": m.created_at,
        "attachments": [attachment_json(a) for a in m.attachments.all()],
    }


def attachment_json(a: Attachment) -> dict[str, object]:
    return {
        "id": a.pk,
        "filename": a.filename,
        "content_type": a.content_type,
        "size": a.size,
        "url": f"/api/v1/attachments/{a.pk}",
    }


def event_json(e: Event) -> dict[str, object]:
    return {
        "id": e.pk,
        "kind": e.kind,
        "actor": e.actor.email if e.actor_id and e.actor else None,
        "data": e.data,
        "created_at": e.created_at,
    }


def work_order_json(w: WorkOrder) -> dict[str, object]:
    return {
        "ticket": w.ticket.number,
        "state": w.state,
        "scope": w.scope,
        "requested_by": w.requested_by,
        "estimate": w.estimate,
        "decision_note": w.decision_note,
        "scheduled_for": w.scheduled_for,
        "approved_at": w.approved_at,
        "done_at": w.done_at,
        "created_at": w.created_at,
        "updated_at": w.updated_at,
    }
