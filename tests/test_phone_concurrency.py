"""Several PBX bridges report the same calls at once (a redundant pair, retries after a
timeout): through a real `caredesk serve` with several workers, on SQLite and PostgreSQL,
each call and each of its events is stored once, every answer opens one case, and no
request fails."""

from __future__ import annotations

import http.client
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import pytest
from instances import caredesk, scratch_postgres
from instances import instance_env as _env
from test_concurrency import _served

CALLS, BRIDGES = 12, 6


def _same_calls_from_every_bridge(env: dict[str, str]) -> None:
    caredesk(env, "setup", "--no-demo")
    caredesk(env, "user", "add", "pbx@caredesk.test", "--role", "manager")
    caredesk(env, "user", "add", "rep@caredesk.test", "--role", "representative")
    token = caredesk(env, "token", "create", "pbx@caredesk.test", "--scope", "intake").split()[-1]
    start = threading.Barrier(BRIDGES)

    with _served(env) as port:

        def bridge(k: int) -> list[int]:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
            start.wait()  # every bridge sends the same events at the same time
            statuses = []
            for n in range(CALLS):
                for fields in (
                    {"event": "newCall", "direction": "in", "from": f"+1212555{n:04d}"},
                    {"event": "answer", "user[]": "rep@caredesk.test"},
                    {"event": "hangup", "cause": "normalClearing"},
                ):
                    body = urlencode({**fields, "callId": f"race-{n}"})
                    conn.request("POST", f"/api/v1/cti/{token}", body=body, headers=headers)
                    response = conn.getresponse()
                    response.read()
                    statuses.append(response.status)
                    if response.will_close:
                        conn.close()
            return statuses

        with ThreadPoolExecutor(BRIDGES) as pool:
            statuses = [s for batch in pool.map(bridge, range(BRIDGES)) for s in batch]

    assert statuses == [200] * (CALLS * 3 * BRIDGES)
    counts = caredesk(
        env, "shell", "-c",
        "from django.db.models import Sum;"
        " from caredesk.phone.models import Call, CallEvent;"
        " from caredesk.tickets.models import Ticket;"
        " print(Call.objects.count(), CallEvent.objects.count(),"
        " CallEvent.objects.aggregate(n=Sum('repeats'))['n'], Ticket.objects.count(),"
        " Call.objects.filter(outcome='answered', ticket__isnull=False).count())",
    ).split()[-5:]  # fmt: skip
    assert counts == [
        str(CALLS),  # calls
        str(CALLS * 3),  # events, once each
        str(CALLS * 3 * (BRIDGES - 1)),  # the rest counted as repeats
        str(CALLS),  # one case per answered call
        str(CALLS),  # every call answered, on its case
    ]


def test_the_same_calls_from_several_bridges_on_sqlite(tmp_path: Path) -> None:
    _same_calls_from_every_bridge(_env(tmp_path))


@pytest.mark.postgres
def test_the_same_calls_from_several_bridges_on_postgres(tmp_path: Path) -> None:
    with scratch_postgres("phone_race") as url:
        _same_calls_from_every_bridge(_env(tmp_path, url))
