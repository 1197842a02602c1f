"""`caredesk export-model`: print the model in force as TOML that loads back to the same model."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from caredesk.servicemodel import loader


class Command(BaseCommand):
    help = "Print the service model in force as TOML."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(loader.export_toml(), ending="")
