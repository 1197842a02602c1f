"""How long `caredesk backup` and `caredesk restore` take, and how big the archive is.

A throwaway instance gets the demo company with N tickets (bulk-inserted), then a backup
and a restore of it are timed through the console script (each figure includes the
command's start-up, about a second), on SQLite and, when it is reachable, on PostgreSQL.

    .venv/bin/python bench/backup_restore.py                   # 5,000 tickets (smoke)
    .venv/bin/python bench/backup_restore.py --tickets 100000  # a year of a busy desk
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from common import Instance, machine, postgres_instance, postgres_reachable, sqlite_instance


def measure(label: str, instance: Instance, tickets: int) -> None:
    instance.prepare()
    instance.caredesk("demo", "--tickets", str(tickets), "--bulk")
    with tempfile.TemporaryDirectory(prefix="caredesk-bench-archive-") as tmp:
        timed(label, instance, tickets, Path(tmp) / "backup.tar.gz")


def timed(label: str, instance: Instance, tickets: int, archive: Path) -> None:
    started = time.perf_counter()
    instance.caredesk("backup", str(archive))
    backup_s = time.perf_counter() - started
    started = time.perf_counter()
    instance.caredesk("restore", str(archive))
    restore_s = time.perf_counter() - started
    size = archive.stat().st_size / 1e6
    print(
        f"{label:<10} {tickets:>8,} tickets   backup {backup_s:6.2f} s   restore {restore_s:6.2f} s"
        f"   archive {size:7.1f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=5000)
    args = parser.parse_args()
    print(f"backup and restore ({machine()})")
    with sqlite_instance() as instance:
        measure("SQLite", instance, args.tickets)
    why_not = postgres_reachable()
    if why_not:
        print(f"PostgreSQL skipped: {why_not}")
        return
    with postgres_instance(f"caredesk_bench_backup_{os.getpid()}") as instance:
        measure("PostgreSQL", instance, args.tickets)


if __name__ == "__main__":
    main()
