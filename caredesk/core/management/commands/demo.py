"""`caredesk demo [--tickets N]`: fill an empty instance with a believable customer-care desk."""

from __future__ import annotations

from argparse import BooleanOptionalAction
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from caredesk.core import demo
from caredesk.core.errors import DomainError


class Command(BaseCommand):
    help = (
        "Fill an empty database with demo data: customer organizations and contacts, staff in"
        " every team, tickets of every type, status and priority over the past 60 days."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--tickets",
            type=int,
            default=demo.DEFAULT_TICKETS,
            help=f"how many tickets, all types together (default {demo.DEFAULT_TICKETS});"
            " 10000 to 1000000 for benchmarks",
        )
        parser.add_argument(
            "--bulk",
            action=BooleanOptionalAction,
            default=None,
            help=f"write rows in batches instead of through the services (the default above"
            f" {demo.BULK_ABOVE} tickets)",
        )
        parser.add_argument("--seed", type=int, default=demo.SEED, help="random seed")

    def handle(self, *args: Any, **options: Any) -> None:
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            call_command("migrate", interactive=False, verbosity=0)
        try:
            summary = demo.generate(
                tickets=options["tickets"],
                bulk=options["bulk"],
                progress=options["verbosity"] > 0,
                seed=options["seed"],
            )
        except DomainError as exc:
            raise CommandError(exc.message) from None
        if summary.model_loaded:
            self.stdout.write("Loaded the service model (service-model.toml).")
        types = ", ".join(f"{n} {key}" for key, n in sorted(summary.by_type.items()))
        statuses = ", ".join(f"{n} {key}" for key, n in sorted(summary.by_status.items()))
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data: {summary.tickets} tickets ({types}); {summary.organizations}"
                f" organizations, {summary.people} people."
            )
        )
        self.stdout.write(f"  by status: {statuses}")
        width = max(len(who) for who, _ in summary.sign_in)
        lines = [f"  {who:<{width}}  {email}" for who, email in summary.sign_in]
        self.stdout.write(
            f"\nSign in at {settings.BASE_URL}/ with the password {summary.password!r}:\n"
            + "\n".join(lines)
        )
