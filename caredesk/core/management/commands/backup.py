"""`caredesk backup FILE`: the database and the data dir's files in one archive."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from caredesk.core import backup
from caredesk.core.errors import DomainError


class Command(BaseCommand):
    help = "Back up the instance (database and attachments) into one archive file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the archive to write (replaced when it exists)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            summary = backup.backup(options["file"])
        except DomainError as exc:
            raise CommandError(exc.message) from None
        counts = ", ".join(f"{n} {what}" for what, n in summary.counts.items())
        self.stdout.write(
            f"Backed up the {summary.vendor} database ({counts}) and {summary.files} files"
            f" to {summary.path}."
        )
