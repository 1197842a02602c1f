"""Instructions per email taken in, or per phone call, counted by callgrind: a figure that
no other load on the machine changes, for comparing two versions of the code.

    .venv/bin/python bench/instructions.py mail     # ingest() over the corpus mix
    .venv/bin/python bench/instructions.py phone    # whole calls through the CTI view

A fresh SQLite instance is prepared; then the work runs twice under
`valgrind --tool=callgrind`, with a small and a larger count, in a process of its own
(Django set up, a few warm-up items first); the difference between the two totals,
divided by the difference in items, leaves out start-up. Needs valgrind (Debian's
package); takes a few minutes. To measure other code, run it with PYTHONPATH naming
that checkout's root.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, sqlite_instance

COUNTS = {"mail": (40, 120), "phone": (20, 60)}


def _work_here(kind: str, count: int, token: str) -> None:
    """Runs under callgrind, inside the instance: warm up, then `count` items."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caredesk.settings")
    import django

    django.setup()
    tag = str(random.random())
    if kind == "mail":
        from mail_smtp import mix

        from caredesk.mail.intake import ingest

        for prefix, n in (("w", 20), ("r", count)):
            for raw in mix(n):
                mark = f"@{prefix}{tag}>".encode()
                ingest(raw.replace(b"@bench.example>", mark), source="smtp")
        return
    from urllib.parse import urlencode

    from django.test import Client
    from phone_events import call_events

    client = Client()
    for prefix, n in (("w", 10), ("r", count)):
        for k in range(n):
            for fields in call_events(f"{prefix}{tag}-{k}", k):
                body = urlencode(fields)
                response = client.post(
                    f"/api/v1/cti/{token}", body, "application/x-www-form-urlencoded"
                )
                assert response.status_code == 200, response.content


def _instructions(env: dict[str, str], kind: str, count: int, token: str, out: Path) -> int:
    run = subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable,
         __file__, "--work-here", kind, str(count), token],
        env=env, cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    found = re.search(r"Collected : (\d+)", run.stderr)
    if found is None:
        raise RuntimeError(f"callgrind printed no total:\n{run.stderr[-2000:]}")
    return int(found.group(1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", nargs="?", choices=sorted(COUNTS))
    parser.add_argument("--work-here", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.work_here:
        _work_here(args.work_here[0], int(args.work_here[1]), args.work_here[2])
        return 0
    if args.kind is None:
        parser.error("say what to count: mail or phone")
    if shutil.which("valgrind") is None:
        print("skipped: valgrind is not installed (apt-get install valgrind)")
        return 0
    small, large = COUNTS[args.kind]
    with sqlite_instance() as instance, tempfile.TemporaryDirectory() as scratch:
        instance.prepare()
        token = "-"
        if args.kind == "phone":
            subprocess.run(
                [sys.executable, str(ROOT / "bench" / "phone_events.py"), "--seed-here"],
                env=instance.env, cwd=ROOT, check=True, capture_output=True,
            )  # fmt: skip
            instance.caredesk("user", "add", "pbx@bench.test", "--role", "manager")
            token = instance.caredesk("token", "create", "pbx@bench.test", "--scope", "intake")
            token = token.split()[-1]
        env = instance.env  # with PYTHONPATH, if set, to measure another checkout
        totals = [
            _instructions(env, args.kind, n, token, Path(scratch) / f"callgrind.{n}")
            for n in (small, large)
        ]
    item = "message" if args.kind == "mail" else "call (newCall, answer, hangup)"
    per_item = (totals[1] - totals[0]) / (large - small)
    print(json.dumps({"kind": args.kind, "instructions_per_item": round(per_item)}))
    print(f"{per_item / 1e6:.2f} M instructions per {item}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
