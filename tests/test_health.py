"""Health and metrics endpoints answer without sign-in."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from django.test import Client

from caredesk.tickets import services


def test_healthz_and_readyz(db: None) -> None:
    assert Client().get("/healthz").json() == {"status": "ok"}
    assert Client().get("/readyz").json()["database"] == "ok"


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
