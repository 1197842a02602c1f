"""Requests per second for the public status page and its Statuspage JSON.

    .venv/bin/python bench/status_rps.py            # the full run: 5 s per path
    .venv/bin/python bench/status_rps.py --smoke    # what bench/run.py runs (1 s per path)
    .venv/bin/python bench/status_rps.py --strict   # exit 1 when a target is missed

A fresh SQLite instance gets the guide's model, then 8 environments x 10 components and
1,000 past incidents (bulk inserts, with their updates and component history, so the
uptime bars have something to draw); `caredesk serve --web-only` serves it, and a few
client processes with keep-alive HTTP/1.1 connections (reconnecting when the server
closes one) fetch `/status/` and then `/status/api/v2/summary.json` for a fixed time.
Both are served from the page cache, so this measures the cached path.

Target on a 2-core machine: at least 1,000 requests/s for summary.json.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, percentile, served, sqlite_instance

TARGET_JSON_RPS = 1000.0
ENVIRONMENTS, COMPONENTS, INCIDENTS = 8, 10, 1000
PATHS = ("/status/", "/status/api/v2/summary.json")


def seed_here() -> None:
    """Runs inside the instance (CAREDESK_DATA_DIR set): bulk-insert the page's data."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caredesk.settings")
    import django

    django.setup()
    from datetime import timedelta

    from django.db import transaction

    from caredesk.core.clock import now
    from caredesk.status.models import (
        AffectedComponent,
        Component,
        ComponentChange,
        Environment,
        Incident,
        IncidentUpdate,
    )

    at = now()
    with transaction.atomic():
        envs = list(Environment.objects.order_by("position", "key"))
        for n in range(len(envs), ENVIRONMENTS):
            envs.append(Environment.objects.create(key=f"ENV{n}", name=f"ENV{n}", position=n))
        for env in envs[:ENVIRONMENTS]:
            have = env.components.count()
            Component.objects.bulk_create(
                Component(environment=env, name=f"Component {i}", version="1.0", position=i)
                for i in range(have, COMPONENTS)
            )
        components = list(Component.objects.filter(environment__in=envs[:ENVIRONMENTS]))
        incidents = Incident.objects.bulk_create(
            Incident(
                name=f"Past incident {i}",
                status="resolved",
                impact=("minor", "major", "critical")[i % 3],
                environment_id=components[i % len(components)].environment_id,
                created_at=at - timedelta(hours=2 * i + 3),
                updated_at=at - timedelta(hours=2 * i + 2),
                started_at=at - timedelta(hours=2 * i + 3),
                resolved_at=at - timedelta(hours=2 * i + 2),
            )
            for i in range(INCIDENTS)
        )
        updates, affected, changes = [], [], []
        for i, incident in enumerate(incidents):
            component = components[i % len(components)]
            start, end = incident.started_at, incident.resolved_at
            assert end is not None
            updates += [
                IncidentUpdate(
                    incident=incident,
                    status=status,
                    body=f"{status.title()}.",
                    created_at=when,
                    display_at=when,
                )
                for status, when in (("investigating", start), ("resolved", end))
            ]
            affected.append(AffectedComponent(incident=incident, component=component))
            changes += [
                ComponentChange(
                    component=component,
                    at=start,
                    old_status="operational",
                    status="partial_outage",
                    version=component.version,
                    old_version=component.version,
                    incident=incident,
                ),
                ComponentChange(
                    component=component,
                    at=end,
                    old_status="partial_outage",
                    status="operational",
                    version=component.version,
                    old_version=component.version,
                    incident=incident,
                ),
            ]
        IncidentUpdate.objects.bulk_create(updates, batch_size=500)
        AffectedComponent.objects.bulk_create(affected, batch_size=500)
        ComponentChange.objects.bulk_create(changes, batch_size=500)
    print(f"seeded {len(envs)} environments, {len(components)} components, {INCIDENTS} incidents")


def _client(host: str, port: int, path: str, seconds: float, out: multiprocessing.Queue) -> None:
    """One client: requests back to back over a keep-alive connection for `seconds`."""
    conn = http.client.HTTPConnection(host, port, timeout=30)
    latencies: list[float] = []
    errors = reconnects = 0
    deadline = time.perf_counter() + seconds
    while (start := time.perf_counter()) < deadline:
        try:
            conn.request("GET", path, headers={"Accept-Encoding": "identity"})
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                errors += 1
            if response.will_close:
                conn.close()
                reconnects += 1
        except (OSError, http.client.HTTPException):
            errors += 1
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=30)
            continue
        latencies.append(time.perf_counter() - start)
    conn.close()
    out.put((latencies, errors, reconnects))


def measure(host: str, port: int, path: str, clients: int, seconds: float) -> dict[str, float]:
    queue: multiprocessing.Queue = multiprocessing.Queue()
    procs = [
        multiprocessing.Process(target=_client, args=(host, port, path, seconds, queue))
        for _ in range(clients)
    ]
    started = time.perf_counter()
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    elapsed = max(seconds, time.perf_counter() - started - 0.05)
    latencies = [x for r in results for x in r[0]]
    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p95_ms": percentile(latencies, 95) * 1000,
        "errors": sum(r[1] for r in results),
        "reconnects": sum(r[2] for r in results),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="1 s per path (bench/run.py)")
    parser.add_argument("--seconds", type=float, default=None, help="time per path")
    parser.add_argument("--clients", type=int, default=4, help="parallel client processes")
    parser.add_argument("--workers", type=int, default=None, help="web workers of the server")
    parser.add_argument(
        "--paths", default=",".join(PATHS), help="comma list of paths (e.g. add /healthz)"
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--seed-here", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.seed_here:
        seed_here()
        return 0
    seconds = args.seconds or (1.0 if args.smoke else 5.0)

    with sqlite_instance() as instance:
        instance.prepare()
        subprocess.run(
            [sys.executable, __file__, "--seed-here"], env=instance.env, cwd=ROOT, check=True
        )
        with served(instance, workers=args.workers) as (host, port):
            paths = [p for p in args.paths.split(",") if p]
            for path in paths:  # warm every worker's cache and imports
                for _ in range(20):
                    conn = http.client.HTTPConnection(host, port, timeout=30)
                    conn.request("GET", path)
                    assert conn.getresponse().read()
                    conn.close()
            print(f"{'path':34} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'errors':>7}")
            figures = {}
            for path in paths:
                figures[path] = r = measure(host, port, path, args.clients, seconds)
                print(
                    f"{path:34} {r['rps']:8.0f} {r['p50_ms']:8.2f} {r['p95_ms']:8.2f} "
                    f"{r['errors']:7.0f}",
                    flush=True,
                )
    json_rps = figures.get(PATHS[1], {"rps": 0.0})["rps"]
    met = json_rps >= TARGET_JSON_RPS
    print(
        f"target: summary.json >= {TARGET_JSON_RPS:.0f} req/s: "
        f"{'met' if met else 'MISSED'} ({json_rps:.0f} req/s, {args.clients} clients, "
        f"{os.cpu_count()} cores)"
    )
    if any(r["errors"] for r in figures.values()):
        print("errors during the run")
        return 1
    return 1 if args.strict and not met else 0


if __name__ == "__main__":
    sys.exit(main())
