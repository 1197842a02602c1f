"""A day on the phone line, simulated and played through the real CTI API.

`plan_day` is pure: calls arrive by an hourly profile (Poisson within each hour), wait
in one first-in-first-out queue for the first free agent, are handled for a lognormal
time, and hang up unanswered when their patience (exponential) runs out first; a few
find the line busy or fail. `play` posts each call's events, in time order and with their
timestamps, to POST /api/v1/cti/<token> of a running caredesk.
"""

from __future__ import annotations

import heapq
import http.client
import math
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

from caredesk.phone.models import Call
from caredesk.phone.service_level import Figures

# Share of a day's calls in each local hour: quiet nights, a morning peak, an afternoon one.
HOURLY_PROFILE = (
    0.4, 0.3, 0.2, 0.2, 0.2, 0.4, 1.0, 3.0, 6.0, 8.5, 9.5, 9.0,
    7.0, 7.5, 8.5, 8.0, 7.0, 5.5, 4.0, 3.0, 2.0, 1.5, 1.0, 0.6,
)  # fmt: skip
MEAN_HANDLE_SECONDS = 240.0
MEAN_PATIENCE_SECONDS = 90.0
BUSY_SHARE, FAILED_SHARE = 0.01, 0.005


@dataclass
class SimCall:
    call_id: str
    caller: str
    rang: datetime
    answered: datetime | None
    ended: datetime
    cause: str
    agent: int | None = None

    def as_call(self) -> Call:
        """An unsaved Call with the outcome the server will compute, for local figures."""
        from caredesk.phone.cti import outcome_for

        wait = ((self.answered or self.ended) - self.rang).total_seconds()
        return Call(
            started_at=self.rang,
            answered_at=self.answered,
            ended_at=self.ended,
            cause=self.cause,
            outcome=outcome_for(
                answered=self.answered is not None, cause=self.cause, wait_seconds=wait
            ),
        )


@dataclass(frozen=True)
class Step:
    at: datetime
    call_id: str
    fields: dict[str, object]


def plan_day(
    *,
    day: date,
    calls: int,
    agents: int,
    zone: ZoneInfo,
    seed: int = 1,
    prefix: str = "sim",
) -> list[SimCall]:
    """`calls` calls over the local `day`, answered by `agents` agents."""
    rng = random.Random(seed)
    weights = [w / sum(HOURLY_PROFILE) for w in HOURLY_PROFILE]
    start = datetime.combine(day, dtime(), zone)
    arrivals: list[datetime] = []
    for hour, share in enumerate(weights):
        # Poisson arrivals: exponential gaps at this hour's rate.
        rate = calls * share / 3600.0
        t = rng.expovariate(rate) if rate else 3600.0
        while t < 3600.0:
            arrivals.append(start + timedelta(hours=hour, seconds=t))
            t += rng.expovariate(rate)
    arrivals.sort()
    free = [start] * max(1, agents)  # when each agent is next free, as a heap
    heapq.heapify(free)
    sigma = 0.6  # lognormal spread of handle times; mu keeps the mean at MEAN_HANDLE_SECONDS
    mu = math.log(MEAN_HANDLE_SECONDS) - sigma * sigma / 2
    planned = []
    for n, rang in enumerate(arrivals):
        call_id = f"{prefix}-{day.isoformat()}-{seed}-{n}"
        caller = f"+1212555{rng.randrange(10000):04d}"
        roll = rng.random()
        if roll < BUSY_SHARE:
            planned.append(
                SimCall(call_id, caller, rang, None, rang + timedelta(seconds=1), "busy")
            )
            continue
        if roll < BUSY_SHARE + FAILED_SHARE:
            ended = rang + timedelta(seconds=2)
            planned.append(SimCall(call_id, caller, rang, None, ended, "congestion"))
            continue
        first_free = free[0]
        answer = max(rang, first_free)
        patience = timedelta(seconds=rng.expovariate(1 / MEAN_PATIENCE_SECONDS))
        if answer - rang > patience:
            planned.append(SimCall(call_id, caller, rang, None, rang + patience, "cancel"))
            continue
        heapq.heappop(free)
        handle = timedelta(seconds=max(20.0, rng.lognormvariate(mu, sigma)))
        heapq.heappush(free, answer + handle)
        agent = n % max(1, agents)
        planned.append(
            SimCall(call_id, caller, rang, answer, answer + handle, "normalClearing", agent)
        )
    return planned


def steps(planned: Iterable[SimCall], *, to: str, extension: Callable[[int], str]) -> list[Step]:
    """Every call's CTI events, in the order they happen."""
    found = []
    for c in planned:
        found.append(
            Step(
                c.rang,
                c.call_id,
                {"event": "newCall", "direction": "in", "from": c.caller, "to": to},
            )
        )
        if c.answered is not None:
            number = extension(c.agent or 0)
            found.append(
                Step(c.answered, c.call_id, {"event": "answer", "answeringNumber": number})
            )
        found.append(Step(c.ended, c.call_id, {"event": "hangup", "cause": c.cause}))
    found.sort(key=lambda s: (s.at, s.fields["event"] != "newCall"))
    return found


@dataclass
class Played:
    sent: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    routed: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0


class _Sender:
    """One keep-alive HTTP connection per thread."""

    def __init__(self, url: str, token: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.https = parts.scheme == "https"
        self.path = f"{parts.path.rstrip('/')}/api/v1/cti/{token}"
        self.conn: http.client.HTTPConnection | None = None

    def post(self, fields: dict[str, object]) -> tuple[int, bytes]:
        body = urlencode({k: str(v) for k, v in fields.items()})
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        for attempt in (1, 2):
            if self.conn is None:
                kind = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
                self.conn = kind(self.host, self.port, timeout=30)
            try:
                self.conn.request("POST", self.path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                if response.will_close:
                    self.conn.close()
                    self.conn = None
                return response.status, data
            except (OSError, http.client.HTTPException):
                # A kept-alive connection the server closed: events are idempotent, so resend.
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def play(
    plan: list[Step],
    *,
    url: str,
    token: str,
    speed: float = 0.0,
    concurrency: int = 4,
    progress: Callable[[int], None] = lambda n: None,
) -> Played:
    """Post the steps; with `speed` > 0, `speed` simulated seconds pass per real second
    (one sender, in order); at 0, as fast as `concurrency` senders go."""
    import json
    import threading

    played = Played()
    lock = threading.Lock()
    local = threading.local()

    def send(step: Step) -> None:
        sender = getattr(local, "sender", None)
        if sender is None:
            sender = local.sender = _Sender(url, token)
        fields = {**step.fields, "callId": step.call_id, "timestamp": step.at.isoformat()}
        try:
            status, data = sender.post(fields)
        except (OSError, http.client.HTTPException) as exc:
            status, data = 0, str(exc).encode()
        with lock:
            played.sent += 1
            if status != 200:
                played.errors[f"{status} {data[:120].decode(errors='replace')}"] += 1
            elif step.fields["event"] == "newCall":
                reply = json.loads(data or b"{}")
                played.routed[str(reply.get("routed_to", "none"))] += 1
        progress(1)

    started = time.monotonic()
    if speed > 0 or concurrency <= 1:
        first = plan[0].at if plan else None
        for step in plan:
            if speed > 0 and first is not None:
                due = (step.at - first).total_seconds() / speed
                pause = due - (time.monotonic() - started)
                if pause > 0:
                    time.sleep(pause)
            send(step)
    else:
        # Each call's events keep their order within one sender; calls spread over senders.
        lanes: dict[int, list[Step]] = {}
        for step in plan:
            lanes.setdefault(hash(step.call_id) % concurrency, []).append(step)

        def run(lane: list[Step]) -> None:
            for step in lane:
                send(step)

        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(run, lanes.values()))
    played.seconds = time.monotonic() - started
    return played


def figures(planned: Iterable[SimCall]) -> Figures:
    """The day's service level by the same counting rules as the server's."""
    total = Figures("", "", "")
    for c in planned:
        total.add(c.as_call())
    total.finish(None)
    return total
