"""Background work of the SLA clocks: the periodic sweep and its notices."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from caredesk.core.clock import now
from caredesk.people.coverage import managers, on_duty
from caredesk.sla import services
from caredesk.sla.models import Clock


@db_periodic_task(crontab(minute="*"))
def sweep_clocks() -> None:
    services.sweep()


@db_task(retries=5, retry_delay=30)
def notify_clock(clock_id: int, what: str) -> None:
    """Email the assignee, the team's on-duty members and the managers about a clock."""
    clock = Clock.objects.select_related("ticket", "ticket__assignee", "ticket__team").get(
        pk=clock_id
    )
    ticket = clock.ticket
    people = {*on_duty(ticket.team_id, at=now()), *managers()}
    if ticket.assignee is not None:
        people.add(ticket.assignee)
    from caredesk.desk.notices import post_sla_notices

    post_sla_notices(clock, what, people)
    recipients = sorted(p.email for p in people)
    if not recipients:
        return
    context = {
        "ticket": ticket,
        "clock": clock,
        "what": what,
        "url": f"{settings.BASE_URL}/desk/tickets/{ticket.number}/",
    }
    subject = render_to_string("sla/emails/notice-subject.txt", context).strip()
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("sla/emails/notice-body.txt", context),
        to=recipients,
        from_email=ticket.team.email or settings.DEFAULT_FROM_EMAIL,
    )
    message.attach_alternative(
        render_to_string("sla/emails/notice-body.html", context), "text/html"
    )
    message.send()
