"""`caredesk restore FILE`: replace the instance's data with a backup's, after checking it."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from caredesk.core import backup
from caredesk.core.errors import DomainError


class Command(BaseCommand):
    help = (
        "Restore a backup made by `caredesk backup`: replaces the database and the data"
        " dir's files. A damaged archive, or one of the other database vendor, changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")

    def handle(self, *args: Any, **options: Any) -> None:
        key = settings.DATA_DIR / "secret.key"
        before = key.read_bytes() if key.exists() else None
        try:
            summary = backup.restore(options["file"])
        except DomainError as exc:
            raise CommandError(exc.message) from None
        # A backup of an older caredesk comes up to this version's schema.
        call_command("migrate", interactive=False, verbosity=0)
        counts = ", ".join(f"{n} {what}" for what, n in summary.counts.items())
        self.stdout.write(
            f"Restored the {summary.vendor} database ({counts}) and {summary.files} files"
            f" from {summary.path}."
        )
        if (key.read_bytes() if key.exists() else None) != before:
            self.stdout.write(
                "The backup brought its own secret key: restart caredesk so every process"
                " signs with it."
            )
