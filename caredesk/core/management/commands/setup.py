"""`caredesk setup`: migrate, load the guide's model and demo data into an empty instance."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from caredesk.servicemodel import loader
from caredesk.tickets.models import Ticket

DEFAULT_MODEL = Path(__file__).resolve().parents[4] / "service-model.toml"


class Command(BaseCommand):
    help = "Prepare an instance: migrate, load the model and demo data when empty."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--model", default=str(DEFAULT_MODEL))
        parser.add_argument("--no-demo", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        if not loader.is_loaded():
            loader.load(options["model"])
            self.stdout.write(f"Loaded the service model from {options['model']}.")
        if not options["no_demo"] and not Ticket.objects.exists():
            call_command("demo")
        base = settings.BASE_URL
        self.stdout.write(
            "\ncaredesk is ready.\n"
            f"  Portal       {base}/\n"
            f"  Agent desk   {base}/desk/\n"
            f"  Status page  {base}/status/\n"
            f"  Admin        {base}/admin/\n"
            f"  API docs     {base}/api/v1/docs\n"
            f"  Data         {settings.DATA_DIR}\n"
        )
