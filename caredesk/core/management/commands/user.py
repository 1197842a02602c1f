"""`caredesk user add EMAIL --role ROLE [--team TEAM] [--org ORG] [--name NAME] [--password P]`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from caredesk.core import audit
from caredesk.core.errors import DomainError
from caredesk.people import services
from caredesk.servicemodel.choices import Role


class Command(BaseCommand):
    help = "Manage users: agents and customer contacts."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="add an agent or a customer contact")
        add.add_argument("email")
        add.add_argument("--role", required=True, choices=[r.value for r in Role])
        add.add_argument("--team", help="a team key (agents; defaults to the role's team)")
        add.add_argument("--org", help="the organization (customers; created when new)")
        add.add_argument("--name", default="")
        add.add_argument("--password", help="without it the user signs in by a link or reset")
        add.add_argument("--phone", default="")
        add.add_argument("--extension", default="", help="an agent's phone extension (CTI)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            with transaction.atomic():
                user = services.add_user(
                    options["email"],
                    role=options["role"],
                    team=options["team"],
                    org=options["org"],
                    name=options["name"],
                    password=options["password"],
                    phone=options["phone"],
                    extension=options["extension"],
                )
                audit.record(
                    actor=None, source="cli", action="created", obj=user,
                    after=audit.snapshot(user),
                )  # fmt: skip
        except DomainError as exc:
            raise CommandError(exc.message) from None
        where = (
            user.team.name if user.team else (user.organization.name if user.organization else "")
        )
        self.stdout.write(f"Added {user.email} ({user.role}{', ' + where if where else ''}).")
