"""The demo's normal size: every case lived through the real services, so events, status
moves and numbering are exactly what the desk would have recorded.

Each case is a story (a generator) that acts, then yields the time of its next step. The
runner interleaves all stories in time order, so numbers follow the clock across types,
and drops whatever would happen after "now": recent cases are still waiting, as they would.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Generator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tqdm import tqdm

from caredesk.core.demo import catalog
from caredesk.core.demo.people import Cast
from caredesk.core.demo.timeline import EASTERN, arrivals, next_staffed, staffed
from caredesk.people.models import Organization, User
from caredesk.tickets import services, work_orders
from caredesk.tickets.models import Ticket

# A story yields the time of its next step; a chapter also returns the time it ended.
Story = Generator[datetime, None, None]
Chapter = Generator[datetime, None, datetime]


@dataclass
class Plan:
    index: int
    at: datetime
    inquiry: catalog.Inquiry
    organization: Organization
    contact: User
    channel: str
    priority: str
    environment: str | None
    first_response: timedelta  # from first contact (or the desk's opening) to the first reply
    answer_at: datetime  # the first human reply
    escalate_at: datetime | None  # None: Customer Care resolves it (or has not escalated yet)
    fresh: bool  # nobody has answered yet: a new case in the queue


def _minutes(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(minutes=rng.uniform(low, high))


def _draft(rng: random.Random, cast: Cast, *, escalations: bool) -> Plan:
    """A case without its time yet."""
    roll = rng.random()
    pool = (
        catalog.CC if roll < 0.5 or not escalations else catalog.TS if roll < 0.75 else catalog.PC
    )
    inquiry = rng.choice(pool)
    org = rng.choice(cast.organizations)
    envs = cast.environments[org.pk]
    channel = rng.choices(("email", "phone", "portal", "api"), (45, 35, 15, 5))[0]
    if channel == "phone":
        first = _minutes(rng, 0.5, 3)  # the representative opens the case during the call
    else:
        # Within the guide's 10 minutes, now and then later.
        first = _minutes(rng, 12, 45) if rng.random() < 0.08 else _minutes(rng, 1, 9)
    return Plan(
        index=0,
        at=datetime.min.replace(tzinfo=UTC),
        inquiry=inquiry,
        organization=org,
        contact=rng.choice(cast.contacts[org.pk]),
        channel=channel,
        priority=rng.choice(inquiry.priorities),
        environment=rng.choice(envs) if envs and rng.random() < 0.8 else None,
        first_response=first,
        answer_at=datetime.min.replace(tzinfo=UTC),
        escalate_at=None,
        fresh=False,
    )


def _escalation_delay(rng: random.Random, priority: str) -> timedelta:
    """From the first reply to the escalation: mostly inside the guide's hour for High/Critical."""
    if priority in ("high", "critical"):
        return _minutes(rng, 5, 40) if rng.random() < 0.9 else _minutes(rng, 60, 100)
    return _minutes(rng, 30, 200)


def _place(rng: random.Random, plan: Plan, ts: float, end: datetime) -> int:
    """Give the plan its time; answer how many tickets it makes."""
    plan.at = datetime.fromtimestamp(ts, UTC)
    # Phone is answered around the clock; mail waits for the monitored hours.
    start = plan.at if plan.channel == "phone" else next_staffed(plan.at)
    plan.answer_at = start + plan.first_response
    plan.fresh = end - plan.answer_at < timedelta(hours=12) and rng.random() < 0.5
    if plan.inquiry.to and not plan.fresh:
        at = plan.answer_at + _escalation_delay(rng, plan.priority)
        plan.escalate_at = at if at <= end else None  # not escalated yet
    return 1 + (plan.escalate_at is not None)


def plan_cases(rng: random.Random, cast: Cast, tickets: int, *, end: datetime) -> list[Plan]:
    """Cases whose tickets (each case, plus its escalation if any) add up to `tickets`."""
    drafts: list[Plan] = []
    total = 0
    while total < tickets:
        draft = _draft(rng, cast, escalations=total + 2 <= tickets)
        drafts.append(draft)
        total += 2 if draft.inquiry.to else 1
    total = sum(
        _place(rng, plan, ts, end)
        for plan, ts in zip(drafts, arrivals(rng, len(drafts), end=end), strict=True)
    )
    # Escalations that would happen after "now" did not happen: top up with plain cases.
    while total < tickets:
        extra = [_draft(rng, cast, escalations=False) for _ in range(tickets - total)]
        times = arrivals(rng, len(extra), end=end)
        total += sum(_place(rng, plan, ts, end) for plan, ts in zip(extra, times, strict=True))
        drafts += extra
    drafts.sort(key=lambda plan: plan.at)
    for i, plan in enumerate(drafts):
        plan.index = i
    # The latest few cases wait unanswered, so the queue always shows new work.
    waiting = [plan for plan in reversed(drafts) if plan.escalate_at is None]
    for plan in waiting[: max(3, len(drafts) // 40)]:
        plan.fresh = True
    return drafts


def fill(text: str, rng: random.Random, plan: Plan, cast: Cast) -> str:
    return text.format(
        person=rng.choice(cast.contacts[plan.organization.pk]).name,
        campaign=rng.choice(catalog.CAMPAIGNS),
        environment=plan.environment or "our environment",
        clock=plan.at.astimezone(EASTERN).strftime("%H:%M ET"),
    )


class Teller:
    """Tells one case's story through the services."""

    def __init__(self, plan: Plan, cast: Cast, seed: int) -> None:
        self.plan = plan
        self.cast = cast
        self.rng = random.Random(seed * 1_000_003 + plan.index)

    def desk_agent(self, at: datetime) -> User:
        # Outside staffed hours Emergency Care answers, as the guide says.
        role = "representative" if staffed(at) else "emergency"
        return self.rng.choice(self.cast.staff[role])

    def text(self, template: str, ticket: Ticket, agent: User, origin: str = "") -> str:
        name = self.plan.contact.name.split()[0]
        return template.format(name=name, number=ticket.number, agent=agent.name, origin=origin)

    def story(self) -> Story:
        plan, rng = self.plan, self.rng
        t = plan.at
        contact = plan.contact
        by_phone = plan.channel == "phone"
        opener = self.desk_agent(t) if by_phone else contact
        case = services.open_case(
            actor=opener,
            subject=fill(plan.inquiry.subject, rng, plan, self.cast),
            description=fill(plan.inquiry.description, rng, plan, self.cast),
            channel=plan.channel,
            requester=contact if by_phone else None,
            priority=plan.priority,
            environment=plan.environment,
            at=t,
        )
        if plan.fresh:
            return
        t = plan.answer_at
        yield t
        agent = opener if by_phone else self.desk_agent(t)
        services.assign(case, actor=agent, agent=agent, at=t)
        services.reply(
            case,
            actor=agent,
            body=self.text(rng.choice(catalog.ACKNOWLEDGEMENTS), case, agent),
            at=t,
        )
        if plan.escalate_at is not None:
            yield from self.escalation(case, agent, t)
        else:
            yield from self.customer_care(case, agent, t)

    def conversation(self, ticket: Ticket, agent: User, t: datetime) -> Chapter:
        """Sometimes a question to the customer, their answer, a note."""
        rng = self.rng
        if rng.random() < 0.35:
            t += _minutes(rng, 5, 90)
            yield t
            services.reply(ticket, actor=agent, body=rng.choice(catalog.QUESTIONS), at=t)
            services.set_status(ticket, actor=agent, status="waiting_on_customer", at=t)
            if rng.random() < 0.25:
                # No answer: the agent gives up after a few days.
                return t + timedelta(days=rng.uniform(3, 5))
            t += _minutes(rng, 30, 20 * 60)
            yield t
            services.reply(
                ticket,
                actor=self.plan.contact,
                body=rng.choice(catalog.CUSTOMER_REPLIES),
                channel="email",
                at=t,
            )
        if rng.random() < 0.3:
            t += _minutes(rng, 5, 120)
            yield t
            services.add_note(ticket, actor=agent, body=rng.choice(catalog.NOTES), at=t)
        return t

    def finish(self, ticket: Ticket, agent: User, t: datetime, *, reply: bool = True) -> Story:
        """Resolve with a last word, close a few days later."""
        rng = self.rng
        yield t
        if reply:
            services.reply(
                ticket,
                actor=agent,
                body=self.text(rng.choice(catalog.RESOLUTIONS), ticket, agent),
                at=t,
            )
        services.resolve(ticket, actor=agent, at=t)
        t += timedelta(days=rng.uniform(2, 4))
        yield t
        services.close(ticket, actor=agent, at=t)

    def customer_care(self, case: Ticket, agent: User, t: datetime) -> Story:
        t = yield from self.conversation(case, agent, t)
        yield from self.finish(case, agent, t + _minutes(self.rng, 20, 8 * 60))

    def escalation(self, case: Ticket, agent: User, t: datetime) -> Story:
        plan, rng = self.plan, self.rng
        inquiry = plan.inquiry
        assert plan.escalate_at is not None and inquiry.to is not None
        if rng.random() < 0.4 and t + timedelta(minutes=5) < plan.escalate_at:
            t += timedelta(minutes=rng.uniform(1, 4))
            yield t
            services.add_note(case, actor=agent, body=f"Triage: {inquiry.reason}", at=t)
        t = plan.escalate_at
        yield t
        ticket = services.escalate(
            case,
            actor=agent,
            to=inquiry.to,
            reason=inquiry.reason,
            category=inquiry.category,
            priority=plan.priority,
            at=t,
        )
        role = "engineer" if inquiry.to == "technical-support" else "coordinator"
        owner = rng.choice(self.cast.staff[role])
        urgent = plan.priority in ("high", "critical")
        t += _minutes(rng, 5, 40) if urgent else _minutes(rng, 15, 180)
        if role == "coordinator":
            t = next_staffed(t)
        yield t
        services.assign(ticket, actor=owner, agent=owner, at=t)
        first = catalog.ESCALATION_FIRST[inquiry.to]
        services.reply(ticket, actor=owner, body=self.text(first, ticket, owner, case.number), at=t)
        if rng.random() < 0.15 and plan.priority != "critical":
            t += _minutes(rng, 10, 60)
            yield t
            higher = {"low": "medium", "medium": "high", "high": "critical"}[plan.priority]
            services.set_priority(ticket, actor=owner, priority=higher, at=t)
        t = yield from self.conversation(ticket, owner, t)
        category = ticket.category
        if category is not None and category.work_order:
            t = yield from self.work_order(ticket, owner, t)
        else:
            hours = (1, 30) if role == "engineer" else (4, 5 * 24)
            t += _minutes(rng, hours[0] * 60, hours[1] * 60)
        yield from self.finish_escalation(case, ticket, owner, t)

    def work_order(self, ticket: Ticket, owner: User, t: datetime) -> Chapter:
        rng = self.rng
        contact = self.plan.contact
        wo = work_orders
        t += _minutes(rng, 60, 20 * 60)
        yield t
        scope = rng.choice(catalog.WORK_ORDER_SCOPES)
        wo.draft_work_order(
            ticket,
            actor=owner,
            scope=scope,
            requested_by=contact.name,
            estimate=rng.choice(catalog.ESTIMATES),
            at=t,
        )
        t += _minutes(rng, 30, 6 * 60)
        yield t
        wo.move_work_order(ticket, actor=owner, action="send", at=t)
        t += _minutes(rng, 4 * 60, 48 * 60)
        yield t
        if rng.random() < 0.15:
            wo.move_work_order(
                ticket, actor=contact, action="decline", note="Too broad; phase it.", at=t
            )
            t += _minutes(rng, 60, 24 * 60)
            yield t
            wo.move_work_order(ticket, actor=owner, action="revise", at=t)
            wo.draft_work_order(
                ticket,
                actor=owner,
                scope=f"Phase one: {scope}",
                requested_by=contact.name,
                estimate=rng.choice(catalog.ESTIMATES),
                at=t,
            )
            wo.move_work_order(ticket, actor=owner, action="send", at=t)
            t += _minutes(rng, 4 * 60, 48 * 60)
            yield t
        wo.move_work_order(ticket, actor=contact, action="approve", note="Approved.", at=t)
        t += _minutes(rng, 2 * 60, 24 * 60)
        yield t
        when = next_staffed(t + timedelta(days=rng.uniform(2, 7)))
        wo.move_work_order(ticket, actor=owner, action="schedule", scheduled_for=when, at=t)
        t = when + _minutes(rng, 30, 4 * 60)
        yield t
        wo.move_work_order(ticket, actor=owner, action="done", at=t)
        return t + _minutes(rng, 10, 60)

    def finish_escalation(self, case: Ticket, ticket: Ticket, owner: User, t: datetime) -> Story:
        rng = self.rng
        yield t
        body = self.text(rng.choice(catalog.RESOLUTIONS), ticket, owner)
        services.reply(ticket, actor=owner, body=body, at=t)
        services.resolve(ticket, actor=owner, at=t)  # hands the case back to Customer Care
        t += _minutes(rng, 10, 90)
        yield t
        case.refresh_from_db()
        agent = self.desk_agent(t)
        services.reply(
            case, actor=agent, body=self.text(rng.choice(catalog.RESOLUTIONS), case, agent), at=t
        )
        services.resolve(case, actor=agent, at=t)
        t += timedelta(days=rng.uniform(2, 4))
        yield t
        services.close(ticket, actor=owner, at=t)
        services.close(case, actor=agent, at=t)


def tell(plans: list[Plan], cast: Cast, *, seed: int, end: datetime, progress: bool) -> None:
    """Run every plan's story in time order, up to `end`."""
    queue: list[tuple[datetime, int, Story]] = []
    for plan in plans:
        heapq.heappush(queue, (plan.at, plan.index, Teller(plan, cast, seed).story()))
    with tqdm(total=len(plans), unit="cases", disable=not progress) as meter:
        while queue:
            _at, index, story = heapq.heappop(queue)
            try:
                following = next(story)
            except StopIteration:
                meter.update(1)
                continue
            if following > end:
                story.close()
                meter.update(1)
            else:
                heapq.heappush(queue, (following, index, story))
