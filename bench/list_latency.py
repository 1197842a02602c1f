"""The ticket list API's latency (p50/p95) and SQL query count at two database sizes.

    .venv/bin/python bench/list_latency.py [--sizes 10000,1000000] [--requests 200]
                                           [--cache DIR]

Each size gets its own SQLite instance filled by `caredesk demo --tickets N`; then
`GET /api/v1/tickets` runs in-process through Django's test client (the whole middleware
stack, token auth, the view, JSON) for an agent and for a customer, unfiltered and
filtered. With `--cache DIR` the generated instances are kept in DIR and reused.

Targets on a 2-core machine: p50 under 15 ms at both sizes, and the same query count.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, Instance, machine, percentile, sqlite_instance

TARGET_P50_MS = 15.0


def measure_here(requests: int) -> dict[str, dict[str, float]]:
    """Runs inside the instance (CAREDESK_DATA_DIR set): time each scenario."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caredesk.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from caredesk.people.models import User
    from caredesk.people.services import create_token

    agent = User.objects.filter(role="representative").order_by("id").first()
    customer = User.objects.filter(role="customer").order_by("id").first()
    assert agent is not None and customer is not None and customer.organization is not None
    org = customer.organization.key
    _, agent_token = create_token(agent, name="bench")
    _, customer_token = create_token(customer, name="bench")
    client = Client()
    first_page = client.get(
        "/api/v1/tickets", headers={"Authorization": f"Bearer {agent_token}"}
    ).json()
    scenarios = [
        ("agent, all tickets", agent_token, {}),
        ("agent, status=open", agent_token, {"status": "open"}),
        ("agent, organization", agent_token, {"organization": org}),
        ("agent, next page", agent_token, {"cursor": first_page["next"]}),
        ("customer, all visible", customer_token, {}),
        ("customer, organization", customer_token, {"organization": org}),
        ("customer, status=open", customer_token, {"status": "open"}),
    ]
    results: dict[str, dict[str, float]] = {}
    for label, token, params in scenarios:
        headers = {"Authorization": f"Bearer {token}"}
        for _ in range(10):  # warm caches and the token's once-a-minute last-use write
            response = client.get("/api/v1/tickets", params, headers=headers)
        assert response.status_code == 200, response.content[:300]
        timings = []
        for _ in range(requests):
            start = time.perf_counter()
            client.get("/api/v1/tickets", params, headers=headers)
            timings.append(time.perf_counter() - start)
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/api/v1/tickets", params, headers=headers)
        results[label] = {
            "p50_ms": percentile(timings, 50) * 1000,
            "p95_ms": percentile(timings, 95) * 1000,
            "queries": len(queries),
            "items": len(response.json()["items"]),
        }
    return results


def run_size(size: int, requests: int, cache: Path | None) -> tuple[float | None, dict]:
    """Generate (unless cached) and measure one size; answer (seconds to generate, figures)."""
    keep = cache / f"demo-{size}" if cache else None
    with sqlite_instance(keep) as instance:
        generated = None
        marker = instance.data_dir / "bench-demo-complete"
        if not marker.exists():
            start = time.monotonic()
            _demo(instance, size)
            generated = time.monotonic() - start
            marker.write_text(str(size))
        else:
            instance.caredesk("migrate", "--noinput")  # a cached instance may predate a migration
        done = subprocess.run(
            [sys.executable, __file__, "--measure-here", "--requests", str(requests)],
            env=instance.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"measuring {size} tickets failed:\n{done.stderr}")
        return generated, json.loads(done.stdout.strip().splitlines()[-1])


def _demo(instance: Instance, size: int) -> None:
    print(f"  generating {size:,} tickets with `caredesk demo --tickets {size}` …", flush=True)
    subprocess.run(
        [sys.executable, "-m", "caredesk", "demo", "--tickets", str(size), "--verbosity", "0"],
        env=instance.env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        check=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,1000000", help="comma-separated ticket counts")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per scenario")
    parser.add_argument("--cache", type=Path, help="keep generated instances here, reuse them")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--measure-here", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure_here:
        print(json.dumps(measure_here(args.requests)))
        return 0

    sizes = [int(s) for s in args.sizes.split(",")]
    print(
        f"list_latency: GET /api/v1/tickets, {args.requests} timed requests per scenario"
        f" ({machine()})"
    )
    figures: dict[int, dict] = {}
    for size in sizes:
        generated, figures[size] = run_size(size, args.requests, args.cache)
        took = f"generated in {generated:.0f} s" if generated is not None else "cached"
        print(f"{size:>10,} tickets ({took})")
        for label, f in figures[size].items():
            flag = "" if f["p50_ms"] < TARGET_P50_MS else "  BELOW target"
            print(
                f"    {label:<24} p50 {f['p50_ms']:6.1f} ms   p95 {f['p95_ms']:6.1f} ms"
                f"   {f['queries']:.0f} queries   {f['items']:.0f} items{flag}"
            )
    met = all(f["p50_ms"] < TARGET_P50_MS for per in figures.values() for f in per.values())
    counts = {label: {figures[s][label]["queries"] for s in sizes} for label in figures[sizes[0]]}
    same = all(len(c) == 1 for c in counts.values())
    print(
        f"p50 under {TARGET_P50_MS:.0f} ms everywhere: {'yes' if met else 'NO'};"
        f" same query count at every size: {'yes' if same else 'NO'}"
    )
    return 1 if not same or (args.strict and not met) else 0


if __name__ == "__main__":
    sys.exit(main())
