"""Work orders: the services for Project Coordination requests that need one.

draft -> sent -> approved | declined; declined -> draft (revised); approved -> scheduled -> done.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from caredesk.core.clock import now
from caredesk.core.errors import Conflict, InvalidInput
from caredesk.people.models import User
from caredesk.tickets.events import record
from caredesk.tickets.models import Ticket, WorkOrder
from caredesk.tickets.services import _clean_text, _require_agent, _touch

State = WorkOrder.State
MOVES: dict[str, tuple[frozenset[str], str]] = {
    # action: (states it starts from, state it leads to)
    "send": (frozenset({State.DRAFT}), State.SENT),
    "approve": (frozenset({State.SENT}), State.APPROVED),
    "decline": (frozenset({State.SENT}), State.DECLINED),
    "revise": (frozenset({State.DECLINED}), State.DRAFT),
    "schedule": (frozenset({State.APPROVED, State.SCHEDULED}), State.SCHEDULED),
    "done": (frozenset({State.SCHEDULED}), State.DONE),
}
# A customer contact of the ticket may approve or decline; agents do everything.
CUSTOMER_ACTIONS = frozenset({"approve", "decline"})


def _needs_work_order(ticket: Ticket) -> None:
    if ticket.category is None or not ticket.category.work_order:
        raise Conflict(
            f"{ticket.number} is not in a category that needs a Work Order.", field="category"
        )


@transaction.atomic
def draft_work_order(
    ticket: Ticket,
    *,
    actor: User,
    scope: str,
    requested_by: str = "",
    estimate: str = "",
    at: datetime | None = None,
) -> WorkOrder:
    """Create the ticket's work order, or revise it while it is a draft."""
    _require_agent(actor, "draft work orders")
    _needs_work_order(ticket)
    at = at or now()
    scope = _clean_text(scope, "scope", required=True)
    requested_by = _clean_text(requested_by, "requested_by", required=False, limit=200)
    estimate = _clean_text(estimate, "estimate", required=False, limit=100)
    order = WorkOrder.objects.select_for_update().filter(ticket=ticket).first()
    if order is None:
        order = WorkOrder.objects.create(
            ticket=ticket,
            scope=scope,
            requested_by=requested_by,
            estimate=estimate,
            created_at=at,
            updated_at=at,
        )
    elif order.state != State.DRAFT:
        raise Conflict(
            f"The work order is {order.state}; only a draft can be edited.", field="state"
        )
    else:
        order.scope, order.requested_by, order.estimate, order.updated_at = (
            scope,
            requested_by,
            estimate,
            at,
        )
        order.save()
    record(ticket, "work_order.drafted", actor=actor, at=at, scope=scope, estimate=estimate)
    _touch(ticket, at)
    return order


@transaction.atomic
def move_work_order(
    ticket: Ticket,
    *,
    actor: User,
    action: str,
    note: str = "",
    scheduled_for: datetime | None = None,
    at: datetime | None = None,
) -> WorkOrder:
    """Send, approve, decline, revise, schedule or complete the ticket's work order."""
    if action not in MOVES:
        raise InvalidInput(
            f"Unknown action {action!r}; use one of {', '.join(MOVES)}.", field="action"
        )
    if not actor.is_agent and action not in CUSTOMER_ACTIONS:
        _require_agent(actor, f"{action} work orders")
    _needs_work_order(ticket)
    at = at or now()
    order = WorkOrder.objects.select_for_update().filter(ticket=ticket).first()
    if order is None:
        raise Conflict(
            f"{ticket.number} has no work order yet; draft one first.", field="work_order"
        )
    sources, target = MOVES[action]
    if order.state not in sources:
        raise Conflict(f"A work order that is {order.state} cannot be {action}d.", field="action")
    if action == "schedule":
        if scheduled_for is None:
            raise InvalidInput(
                "Give the date and time the work is scheduled for.", field="scheduled_for"
            )
        order.scheduled_for = scheduled_for
    if action == "approve":
        order.approved_at = at
    if action == "done":
        order.done_at = at
    if action in ("approve", "decline"):
        order.decision_note = _clean_text(note, "note", required=False)
    before, order.state, order.updated_at = order.state, target, at
    order.save()
    record(
        ticket,
        f"work_order.{target}",
        actor=actor,
        at=at,
        before=before,
        after=target,
        note=note,
        scheduled_for=scheduled_for.isoformat() if scheduled_for else None,
    )
    _touch(ticket, at)
    return order
