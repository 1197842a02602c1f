"""`caredesk token create EMAIL [--scope read|write|intake|status]`: prints the token last."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from caredesk.core.clock import now
from caredesk.core.errors import DomainError
from caredesk.people import services
from caredesk.people.models import TokenScope


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
        create.add_argument("--days", type=int, help="expire after this many days")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            user = services.get_user(options["email"])
            expires = now() + timedelta(days=options["days"]) if options["days"] else None
            token, raw = services.create_token(
                user, scope=options["scope"], name=options["name"], expires_at=expires
            )
        except DomainError as exc:
            raise CommandError(exc.message) from None
        self.stderr.write(f"Token for {user.email}, scope {token.scope} (shown once):")
        self.stdout.write(raw)
