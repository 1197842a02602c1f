"""Messages per second through intake alone: `caredesk.mail.intake.ingest` called in
process, with no transport in front, over a mix of the test corpus and new inquiries.

    .venv/bin/python bench/mail_parse.py [--messages 3000] [--smoke] [--strict]
                                         [--backend sqlite|postgres]

A fresh instance (SQLite in a temporary data dir, or a throwaway PostgreSQL database);
every call stores the raw bytes, parses, threads, opens or updates a case (or quarantines
or ignores the message) and commits, exactly as the SMTP listener, IMAP poller and API
call it. Prints messages/s, latency percentiles and what became of the messages.

Target on a 2-core machine: at least 300 messages/s on SQLite, the end-to-end target of
bench/mail_smtp.py, which adds the SMTP conversation on top of this.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import machine, percentile, postgres_instance, postgres_reachable, sqlite_instance
from mail_smtp import mix

TARGET = 300.0


def run(count: int) -> tuple[float, float, list[float], Counter[str], float]:
    """Ingest `count` messages in this process (Django set up for the instance already)."""
    from django.db import connection

    from caredesk.mail.intake import ingest

    messages = mix(count)
    outcomes: Counter[str] = Counter()
    latencies = []
    # Warm up imports, the service-model cache and the connection before the clock starts.
    for raw in mix(20)[:20]:
        ingest(raw.replace(b"@bench.example>", b"@warmup.example>"), source="api")
    statements = [0]

    def counted(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        statements[0] += 1  # savepoints included; BEGIN and COMMIT are not statements here
        return execute(sql, params, many, context)

    began, cpu_began = time.perf_counter(), time.process_time()
    with connection.execute_wrapper(counted):
        for raw in messages:
            start = time.perf_counter()
            result = ingest(raw, source="smtp", envelope_from="sender@bench.example")
            outcomes[result.status] += 1
            latencies.append(time.perf_counter() - start)
    # CPU seconds of this process per message: on a busy machine the wall clock mostly
    # measures the other processes, this says what one free core would do.
    cpu = (time.process_time() - cpu_began) / count
    return count / (time.perf_counter() - began), cpu, latencies, outcomes, statements[0] / count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--smoke", action="store_true", help="a quick run (300 messages)")
    parser.add_argument("--strict", action="store_true", help="fail when the target is missed")
    args = parser.parse_args()
    count = 300 if args.smoke else args.messages
    print(f"mail_parse: {count} messages through ingest() on {args.backend}; {machine()}")

    if args.backend == "postgres":
        problem = postgres_reachable()
        if problem is not None:
            print(f"{problem}; skipped.")
            return 0
        context = postgres_instance("caredesk_bench_mail_parse")
    else:
        context = sqlite_instance()
    with context as instance:
        instance.prepare()
        os.environ.update(instance.env)
        os.environ["DJANGO_SETTINGS_MODULE"] = "caredesk.settings"
        import django

        django.setup()
        rate, cpu, latencies, outcomes, statements = run(count)
        from django.db import connections

        connections.close_all()

    ms = [x * 1000 for x in latencies]
    print(
        f"  {rate:.0f} messages/s; latency p50 {percentile(ms, 50):.1f} ms,"
        f" p95 {percentile(ms, 95):.1f} ms, p99 {percentile(ms, 99):.1f} ms"
    )
    print(
        f"  CPU {cpu * 1000:.1f} ms per message in this process:"
        f" {1 / cpu:.0f} messages/s of one core; {statements:.1f} SQL statements per message"
    )
    print(f"  outcomes: {dict(sorted((str(k), v) for k, v in outcomes.items()))}")
    met = rate >= TARGET
    print(f"  target {TARGET:.0f} messages/s: {'met' if met else 'MISSED'}")
    return 1 if args.strict and not met else 0


if __name__ == "__main__":
    sys.exit(main())
