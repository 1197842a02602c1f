"""`caredesk token create EMAIL [--scope …] [--expires DAYS]`: prints the token last."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from caredesk.core import audit
from caredesk.core.clock import now
from caredesk.core.errors import DomainError
from caredesk.people import services
from caredesk.people.models import TokenScope

MAX_DAYS = 3650


class Command(BaseCommand):
    help = "Manage API tokens."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a token for a user")
        create.add_argument("email")
        create.add_argument(
            "--scope",
            default=TokenScope.ALL,
            choices=[s.value for s in TokenScope],
            help="narrow the token (default: all of the user's rights)",
        )
        create.add_argument("--name", default="")
        create.add_argument(
            "--expires",
            "--days",
            dest="days",
            type=int,
            metavar="DAYS",
            help="expire after this many days (default: never; revoke it in the desk)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["days"]
        if days is not None and not 1 <= days <= MAX_DAYS:
            raise CommandError(f"--expires takes a number of days from 1 to {MAX_DAYS}.")
        try:
            user = services.get_user(options["email"])
            expires = now() + timedelta(days=days) if days else None
            with transaction.atomic():
                token, raw = services.create_token(
                    user, scope=options["scope"], name=options["name"], expires_at=expires
                )
                audit.record(
                    actor=None,
                    source="cli",
                    action="token.created",
                    obj=token,
                    after=audit.snapshot(token),
                )
        except DomainError as exc:
            raise CommandError(exc.message) from None
        until = f", expires {token.expires_at:%Y-%m-%d %H:%M} UTC" if token.expires_at else ""
        self.stderr.write(f"Token for {user.email}, scope {token.scope}{until} (shown once):")
        self.stdout.write(raw)
