"""Run every benchmark in bench/: a quick smoke run by default, the full one with --full.

    .venv/bin/python bench/run.py            # what `make bench` and CI run (a few minutes)
    .venv/bin/python bench/run.py --full     # the figures in bench/README.md (about 10 min)
    .venv/bin/python bench/run.py --strict   # also fail when a target is missed

A benchmark that breaks fails the run; one that misses its target only says so, unless
--strict: figures from a shared 2-core machine vary too much to gate CI on them.
Scripts in bench/ that are not listed below run with their own defaults.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# script: (smoke arguments, full arguments, whether it takes --strict)
KNOWN: dict[str, tuple[list[str], list[str], bool]] = {
    "create_cases.py": (["--seconds", "3"], ["--seconds", "20"], True),
    "list_latency.py": (
        ["--sizes", "1000,10000", "--requests", "50"],
        ["--sizes", "10000,1000000", "--requests", "300", "--cache", str(HERE / "out")],
        True,
    ),
    "due_times.py": (["--seconds", "1"], [], False),
    "sla_sweep.py": (["--quick"], [], True),
    "status_rps.py": (["--smoke"], [], True),
    "desk_pages.py": (
        ["--sizes", "1000", "--requests", "10"],
        ["--sizes", "10000,100000", "--requests", "100", "--cache", str(HERE / "out")],
        True,
    ),
    "phone_events.py": (["--smoke", "--clients", "4"], [], True),
    "mail_parse.py": (["--smoke"], [], True),
    "mail_smtp.py": (["--smoke"], [], True),
}
# instructions.py counts with callgrind (minutes a run): a tool run by hand, not a benchmark.
NOT_BENCHMARKS = {"run.py", "common.py", "instructions.py"}


def scripts() -> list[str]:
    found = sorted(
        p.name
        for p in HERE.glob("*.py")
        if p.name not in NOT_BENCHMARKS and not p.name.startswith("_")
    )
    return [s for s in KNOWN if s in found] + [s for s in found if s not in KNOWN]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="full sizes and durations")
    parser.add_argument("--strict", action="store_true", help="fail when a target is missed")
    parser.add_argument("only", nargs="*", help="run only these scripts (e.g. list_latency)")
    args = parser.parse_args(argv)

    failed = []
    for script in scripts():
        if args.only and script.removesuffix(".py") not in {
            o.removesuffix(".py") for o in args.only
        }:
            continue
        smoke, full, takes_strict = KNOWN.get(script, ([], [], False))
        extra = list(full if args.full else smoke)
        if args.strict and takes_strict:
            extra.append("--strict")
        print(f"\n=== {script} {' '.join(extra)}", flush=True)
        start = time.monotonic()
        code = subprocess.call([sys.executable, str(HERE / script), *extra], cwd=HERE.parent)
        outcome = "ok" if code == 0 else f"exit {code}"
        print(f"=== {script}: {outcome} in {time.monotonic() - start:.0f} s")
        if code != 0:
            failed.append(script)
    if failed:
        print(f"\nFailed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
