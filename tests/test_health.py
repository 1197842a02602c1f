"""Health and metrics endpoints answer without sign-in."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from django.test import Client

from caredesk.core import health, tasks
from caredesk.mail.models import OutboundMail
from caredesk.tickets import services


def test_healthz_and_readyz(db: None) -> None:
    assert Client().get("/healthz").json() == {"status": "ok"}
    health.beat()
    ready = Client().get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ok", "database": "ok", "queue": "ok", "worker": "ok", "outbound_mail": "ok"
    }  # fmt: skip


def test_readyz_says_when_no_worker_beats(db: None) -> None:
    answer = Client().get("/readyz")  # nothing has beaten in this test's queue storage
    assert answer.status_code == 503
    assert "start `caredesk worker`" in answer.json()["worker"]
    start = datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("America/New_York"))
    with time_machine.travel(start, tick=False) as traveller:
        tasks.heartbeat()  # the worker's periodic beat, run inline here
        assert Client().get("/readyz").status_code == 200
        traveller.shift(timedelta(minutes=4))  # three beats missed: the worker is gone
        answer = Client().get("/readyz")
        assert answer.status_code == 503
        assert answer.json()["worker"] == "the last worker heartbeat was 240 s ago"
        text = Client().get("/metrics").content.decode()
        assert "caredesk_worker_up 0" in text
        assert "caredesk_worker_heartbeat_age_seconds 240.0" in text


def test_readyz_and_metrics_report_mail_the_worker_does_not_send(rep, alice) -> None:  # type: ignore[no-untyped-def]
    start = datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("America/New_York"))
    with time_machine.travel(start, tick=False) as traveller:
        case = services.open_case(actor=rep, subject="Exports", channel="email", requester=alice)
        OutboundMail.objects.create(
            ticket=case, kind="reply", from_header="care@caredesk.test", recipients=[alice.email],
            subject="[CASE-100] Exports", text="On it.", message_id="<matrix@caredesk.test>",
            next_attempt_at=start, created_at=start,
        )  # fmt: skip
        health.beat()
        assert Client().get("/readyz").status_code == 200  # due just now: not stuck yet
        traveller.shift(timedelta(minutes=11))
        health.beat()
        answer = Client().get("/readyz")
        text = Client().get("/metrics").content.decode()
    assert answer.status_code == 503
    assert answer.json()["outbound_mail"] == "1 mails waiting more than 10 minutes to be sent"
    assert 'caredesk_outbound_mail{state="queued"} 1' in text
    assert "caredesk_outbound_mail_stuck 1" in text
    assert "caredesk_worker_up 1" in text
    assert 'caredesk_http_requests_total{pid="' in text


def test_metrics_count_open_tickets_and_overdue_clocks(rep, alice) -> None:  # type: ignore[no-untyped-def]
    opened = datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("America/New_York"))
    with time_machine.travel(opened, tick=False) as traveller:
        for subject in ("Reports are empty", "Login fails"):
            services.open_case(actor=rep, subject=subject, channel="email", requester=alice)
        traveller.shift(timedelta(minutes=11))
        response = Client().get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert 'caredesk_tickets_open{type="customer-care",status="new"} 2' in text
    assert "caredesk_sla_clocks_running 2" in text
    assert "caredesk_sla_clocks_overdue 2" in text
    assert "caredesk_queue_pending " in text
