"""Cases created per second over HTTP: `POST /api/v1/tickets` with a bearer token, through a
real `caredesk serve` (gunicorn), from parallel client processes, on SQLite and PostgreSQL.

    .venv/bin/python bench/create_cases.py [--seconds 15] [--clients 2] [--workers N]
                                           [--backend sqlite|postgres|both]

Target on a 2-core machine: at least 300 cases/s with 2 clients.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
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
    server_cpu_seconds,
    sqlite_instance,
)

TARGET = 300.0
REQUESTER = "ops@meridian-credit.example"


def client_run(
    host: str, port: int, token: str, worker: int, start_at: float, seconds: float
) -> tuple[list[str], list[float], list[str], float]:
    """One client: open cases back to back until the time is up; also its CPU time."""
    client = Client(host, port, token)
    numbers: list[str] = []
    latencies: list[float] = []
    errors: list[str] = []
    # Warm up the server's workers and connections before the clock starts.
    for i in range(10):
        client.request("POST", "/api/v1/tickets", _case(worker, -i - 1))
    time.sleep(max(0.0, start_at - time.time()))
    end = start_at + seconds
    cpu = time.process_time()
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
    return numbers, latencies, errors, time.process_time() - cpu


def _case(worker: int, i: int) -> dict[str, str]:
    return {
        "subject": f"Dialer stopped placing calls (client {worker}, #{i})",
        "description": "Since 09:40 ET the Early Stage campaign shows agents ready but no calls.",
        "requester": REQUESTER,
        "channel": "phone",
        "priority": "high",
    }


def measure(
    instance: Instance,
    *,
    seconds: float,
    clients: int,
    workers: int | None,
    threads: int | None = None,
) -> dict:
    instance.prepare()
    instance.caredesk("user", "add", REQUESTER, "--role", "customer", "--org", "Meridian Credit")
    token = instance.token("bench.rep@caredesk.example", "representative")
    with served(instance, workers=workers, threads=threads) as (host, port):
        start_at = time.time() + 2.0
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(clients) as pool:
            running = pool.starmap_async(
                client_run,
                [(host, port, token, w, start_at, seconds) for w in range(clients)],
            )
            time.sleep(max(0.0, start_at - time.time()))
            cpu_before = server_cpu_seconds(port), database_cpu_seconds(instance)
            results = running.get()
            server_cpu = server_cpu_seconds(port) - cpu_before[0]
            database_cpu = database_cpu_seconds(instance) - cpu_before[1]
    numbers = [n for r in results for n in r[0]]
    latencies = [x for r in results for x in r[1]]
    errors = [e for r in results for e in r[2]]
    if len(set(numbers)) != len(numbers):
        errors.append(f"{len(numbers) - len(set(numbers))} duplicate numbers")
    done = max(len(numbers), 1)
    return {
        "cases": len(numbers),
        "rate": len(numbers) / seconds,
        "server_ms": 1000 * server_cpu / done,
        "database_ms": 1000 * database_cpu / done,
        "client_ms": 1000 * sum(r[3] for r in results) / done,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p95_ms": percentile(latencies, 95) * 1000,
        "errors": errors,
    }


def database_cpu_seconds(instance: Instance) -> float:
    """CPU time used so far by the PostgreSQL backends serving this instance's database
    (their process titles name it); 0 on SQLite, which runs inside the server."""
    if not instance.database_url:
        return 0.0
    name = instance.database_url.rsplit("/", 1)[-1].encode()
    ticks = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes()
            if not title.startswith(b"postgres: ") or name not in title.split():
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def report(backend: str, result: dict, clients: int) -> tuple[bool, bool]:
    """Print one line; answer (met the target, ran without errors)."""
    verdict = "meets" if result["rate"] >= TARGET else "BELOW"
    print(
        f"{backend:<10} {result['rate']:7.0f} cases/s  ({result['cases']} cases, {clients} clients;"
        f" latency p50 {result['p50_ms']:.1f} ms, p95 {result['p95_ms']:.1f} ms)"
        f"  {verdict} the {TARGET:.0f}/s target"
    )
    total = result["server_ms"] + result["database_ms"] + result["client_ms"]
    cores = os.cpu_count() or 1
    database = f" + PostgreSQL {result['database_ms']:.2f}" if result["database_ms"] else ""
    print(
        f"{'':<10} CPU per case: server {result['server_ms']:.2f} ms{database}"
        f" + clients {result['client_ms']:.2f} ms = {total:.2f} ms;"
        f" {cores} idle cores would open about {1000 * cores / total:.0f} cases/s"
        if total
        else f"{'':<10} (no CPU figures: /proc not readable)"
    )
    for error in result["errors"][:5]:
        print(f"           error: {error}")
    return result["rate"] >= TARGET, not result["errors"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="measured time per backend")
    parser.add_argument("--clients", type=int, default=2, help="parallel client processes")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: serve's own)")
    parser.add_argument("--threads", type=int, help="threads per worker (default: serve's own)")
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--strict", action="store_true", help="exit 1 when below the target")
    args = parser.parse_args(argv)

    print(f"create_cases: POST /api/v1/tickets for {args.seconds:g} s per backend ({machine()})")
    outcomes = []
    if args.backend in ("sqlite", "both"):
        with sqlite_instance() as instance:
            result = measure(
                instance,
                seconds=args.seconds,
                clients=args.clients,
                workers=args.workers,
                threads=args.threads,
            )
        outcomes.append(report("SQLite", result, args.clients))
    if args.backend in ("postgres", "both"):
        if why := postgres_reachable():
            print(f"PostgreSQL skipped: {why}")
        else:
            with postgres_instance("caredesk_bench") as instance:
                result = measure(
                    instance,
                    seconds=args.seconds,
                    clients=args.clients,
                    workers=args.workers,
                    threads=args.threads,
                )
            outcomes.append(report("PostgreSQL", result, args.clients))
    met = all(m for m, _ in outcomes)
    clean = all(c for _, c in outcomes)
    return 0 if clean and (met or not args.strict) else 1


if __name__ == "__main__":
    sys.exit(main())
