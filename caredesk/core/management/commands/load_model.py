"""`caredesk load-model FILE`: validate a service model file and apply it, all or nothing."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from caredesk.core import audit
from caredesk.servicemodel import loader


class Command(BaseCommand):
    help = "Validate a service model file (TOML) and load it into the database."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument(
            "--if-empty", action="store_true", help="load only when no model is loaded yet"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["if_empty"] and loader.is_loaded():
            self.stdout.write("A service model is already loaded; left as it is.")
            return
        try:
            with transaction.atomic():
                before = loader.export() if loader.is_loaded() else {}
                loader.load(options["file"])
                audit.record(
                    actor=None,
                    source="cli",
                    action="service_model.loaded",
                    object_type="service-model",
                    object_repr=str(options["file"])[:200],
                    before=before,
                    after=loader.export(),
                )
        except loader.ModelFileError as exc:
            raise CommandError(f"the model was not loaded; nothing changed.\n{exc}") from None
        self.stdout.write(self.style.SUCCESS(f"Loaded the service model from {options['file']}."))
