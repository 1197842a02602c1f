"""Cases created per second over HTTP: `POST /api/v1/tickets` with a bearer token, through a
real `caredesk serve` (gunicorn), from parallel client processes, on SQLite and PostgreSQL.

    .venv/bin/python bench/create_cases.py [--seconds 15] [--clients 2] [--workers N]
                                           [--backend sqlite|postgres|both]

Target on a 2-core machine: at least 300 cases/s with 2 clients.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    Client,
    Instance,
    machine,
    percentile,
    postgres_instance,
    postgres_reachable,
    served,
    sqlite_instance,
)

TARGET = 300.0
REQUESTER = "ops@meridian-credit.example"


def client_run(
    host: str, port: int, token: str, worker: int, start_at: float, seconds: float
) -> tuple[list[str], list[float], list[str]]:
    """One client: open cases back to back until the time is up."""
    client = Client(host, port, token)
    numbers: list[str] = []
    latencies: list[float] = []
    errors: list[str] = []
    # Warm up the server's workers and connections before the clock starts.
    for i in range(10):
        client.request("POST", "/api/v1/tickets", _case(worker, -i - 1))
    time.sleep(max(0.0, start_at - time.time()))
    end = start_at + seconds
    i = 0
    while (now := time.time()) < end:
        status, body = client.request("POST", "/api/v1/tickets", _case(worker, i))
        latencies.append(time.time() - now)
        if status == 201:
            numbers.append(body["number"])
        else:
            errors.append(f"{status} {body.get('message', body)}")
        i += 1
    client.close()
    return numbers, latencies, errors


def _case(worker: int, i: int) -> dict[str, str]:
    return {
        "subject": f"Dialer stopped placing calls (client {worker}, #{i})",
        "description": "Since 09:40 ET the Early Stage campaign shows agents ready but no calls.",
        "requester": REQUESTER,
        "channel": "phone",
        "priority": "high",
    }


def measure(instance: Instance, *, seconds: float, clients: int, workers: int | None) -> dict:
    instance.prepare()
    instance.caredesk("user", "add", REQUESTER, "--role", "customer", "--org", "Meridian Credit")
    token = instance.token("bench.rep@caredesk.example", "representative")
    with served(instance, workers=workers) as (host, port):
        start_at = time.time() + 2.0
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(clients) as pool:
            results = pool.starmap(
                client_run,
                [(host, port, token, w, start_at, seconds) for w in range(clients)],
            )
    numbers = [n for r in results for n in r[0]]
    latencies = [x for r in results for x in r[1]]
    errors = [e for r in results for e in r[2]]
    if len(set(numbers)) != len(numbers):
        errors.append(f"{len(numbers) - len(set(numbers))} duplicate numbers")
    return {
        "cases": len(numbers),
        "rate": len(numbers) / seconds,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p95_ms": percentile(latencies, 95) * 1000,
        "errors": errors,
    }


def report(backend: str, result: dict, clients: int) -> tuple[bool, bool]:
    """Print one line; answer (met the target, ran without errors)."""
    verdict = "meets" if result["rate"] >= TARGET else "BELOW"
    print(
        f"{backend:<10} {result['rate']:7.0f} cases/s  ({result['cases']} cases, {clients} clients;"
        f" latency p50 {result['p50_ms']:.1f} ms, p95 {result['p95_ms']:.1f} ms)"
        f"  {verdict} the {TARGET:.0f}/s target"
    )
    for error in result["errors"][:5]:
        print(f"           error: {error}")
    return result["rate"] >= TARGET, not result["errors"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="measured time per backend")
    parser.add_argument("--clients", type=int, default=2, help="parallel client processes")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: serve's own)")
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--strict", action="store_true", help="exit 1 when below the target")
    args = parser.parse_args(argv)

    print(f"create_cases: POST /api/v1/tickets for {args.seconds:g} s per backend ({machine()})")
    outcomes = []
    if args.backend in ("sqlite", "both"):
        with sqlite_instance() as instance:
            result = measure(
                instance, seconds=args.seconds, clients=args.clients, workers=args.workers
            )
        outcomes.append(report("SQLite", result, args.clients))
    if args.backend in ("postgres", "both"):
        if why := postgres_reachable():
            print(f"PostgreSQL skipped: {why}")
        else:
            with postgres_instance("caredesk_bench") as instance:
                result = measure(
                    instance, seconds=args.seconds, clients=args.clients, workers=args.workers
                )
            outcomes.append(report("PostgreSQL", result, args.clients))
    met = all(m for m, _ in outcomes)
    clean = all(c for _, c in outcomes)
    return 0 if clean and (met or not args.strict) else 1


if __name__ == "__main__":
    sys.exit(main())
