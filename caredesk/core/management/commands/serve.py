"""`caredesk serve`: the production web server, with the worker alongside in embedded mode."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from gunicorn.app.base import BaseApplication


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from caredesk.wsgi import application

        return application


# gunicorn makes its heartbeat files there with mkstemp and unlinks them at once.
_SHM = "/dev/shm"  # noqa: S108


def _memory_dir() -> str | None:
    return _SHM if os.path.isdir(_SHM) and os.access(_SHM, os.W_OK) else None


class Command(BaseCommand):
    help = "Serve caredesk with gunicorn; without --web-only also run the worker and SMTP listener."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("CAREDESK_HOST", "127.0.0.1"))
        parser.add_argument(
            "--port", type=int, default=int(os.environ.get("CAREDESK_PORT", "8000"))
        )
        # One process per core, each with a few threads (gunicorn's gthread workers): the
        # threads cover the waits on the database, and clients that keep their connection
        # alive (integrations, PBXs, the desk's polling) skip a TCP handshake per request.
        # Five sync workers on two cores cost 1.5 times the CPU per API request and opened
        # 140 cases/s where two workers of four threads opened 350 (bench/create_cases.py).
        parser.add_argument(
            "--workers",
            type=int,
            default=int(os.environ.get("CAREDESK_WEB_WORKERS", str(max(2, os.cpu_count() or 1)))),
            help="web worker processes (default: one per core, at least 2)",
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=int(os.environ.get("CAREDESK_WEB_THREADS", "4")),
            help="threads per worker (default 4); 1 makes plain sync workers without keep-alive",
        )
        parser.add_argument(
            "--web-only", action="store_true", help="serve the web only (the scaled mode)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        children: list[subprocess.Popen[bytes]] = []
        if not options["web_only"]:
            # Embedded mode: the worker runs beside the web server and stops with it.
            children.append(subprocess.Popen([sys.executable, "-m", "caredesk", "worker"]))
            # and so does the SMTP listener (on CAREDESK_SMTP_PORT, 127.0.0.1 by default).
            children.append(subprocess.Popen([sys.executable, "-m", "caredesk", "smtpd"]))
        try:
            self.stdout.write(
                f"caredesk serving on http://{options['host']}:{options['port']}/ "
                f"({options['workers']} workers of {options['threads']} threads,"
                f" data in {settings.DATA_DIR})"
            )
            _Gunicorn(
                {
                    "bind": f"{options['host']}:{options['port']}",
                    "workers": options["workers"],
                    "worker_class": "gthread" if options["threads"] > 1 else "sync",
                    "threads": options["threads"],
                    "accesslog": os.environ.get("CAREDESK_ACCESS_LOG") or None,
                    "errorlog": "-",
                    "loglevel": "warning",
                    "timeout": 60,
                    "keepalive": 5,
                    "proc_name": "caredesk",
                    # Each worker's heartbeat touches a file between requests: in memory,
                    # not on a disk where the touch can wait for the journal.
                    "worker_tmp_dir": _memory_dir(),
                }
            ).run()
        finally:
            for child in children:
                child.send_signal(signal.SIGTERM)
            for child in children:
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    child.kill()
