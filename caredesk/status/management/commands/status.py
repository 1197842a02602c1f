"""`caredesk status export DIR`: the public page, its assets and JSON as static files.

The tree mirrors the site's paths (DIR/status/…, DIR/static/…), so any web server with
DIR as its root serves the page as it is, and it stays up when the desk is down.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.test import Client

from caredesk.status import public
from caredesk.status.models import Environment, Incident

ASSETS = ("caredesk/caredesk.css", "caredesk/status.js", "caredesk/favicon.svg")
PAGES = 50  # the incident pages written: the most recent ones


class Command(BaseCommand):
    help = "Status page tools: `export DIR` writes the page and its JSON as static files."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        export = sub.add_parser("export", help="Write the public page as static files.")
        export.add_argument("dir")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "export":
            count = export(Path(options["dir"]))
            self.stdout.write(f"Wrote {count} files to {options['dir']}.")


def export(root: Path) -> int:
    hosts = [h for h in settings.ALLOWED_HOSTS if h and "*" not in h and not h.startswith(".")]
    client = Client(HTTP_HOST=hosts[0] if hosts else "localhost")
    paths = ["/status/", "/status/history/", "/status/history.atom", "/status/history.rss"]
    paths += [f"/status/api/v2/{name}" for name in public.ENDPOINTS]
    paths += [
        f"/status/environments/{key}/" for key in Environment.objects.values_list("key", flat=True)
    ]
    paths += [
        f"/status/incidents/{pk}/"
        for pk in Incident.objects.order_by("-started_at").values_list("pk", flat=True)[:PAGES]
    ]
    written = 0
    for path in paths:
        response = client.get(path)
        if response.status_code != 200:
            raise CommandError(f"{path} answered {response.status_code}; nothing more written.")
        target = root / path.lstrip("/")
        if path.endswith("/"):
            target = target / "index.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(response.content)
        written += 1
    for asset in ASSETS:
        found = finders.find(asset)
        if found:
            target = root / "static" / asset
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(Path(str(found)).read_bytes())
            written += 1
    return written
