"""`caredesk smtpd`: the SMTP (or LMTP) intake listener."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from caredesk.mail import smtpd


class Command(BaseCommand):
    help = "Receive mail by SMTP or LMTP: each message is stored before it is accepted."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("CAREDESK_SMTP_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=settings.SMTP_PORT)
        parser.add_argument("--lmtp", action="store_true", help="speak LMTP (RFC 2033)")
        parser.add_argument(
            "--processes",
            type=int,
            default=int(os.environ.get("CAREDESK_SMTP_PROCESSES", "1")),
            help="processes sharing the port (one core each; default 1)",
        )
        parser.add_argument(
            "--max-size",
            type=int,
            default=smtpd.max_message_bytes(),
            help="largest message in bytes (announced in EHLO SIZE; larger ones get 552)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        def ready(where: str) -> None:
            domains = ", ".join(settings.MAIL_DOMAINS) or "every domain"
            self.stdout.write(f"caredesk smtpd: {where}, accepting mail for {domains}")
            self.stdout.flush()

        smtpd.run(
            options["host"],
            options["port"],
            lmtp=options["lmtp"],
            domains=settings.MAIL_DOMAINS,
            max_bytes=options["max_size"],
            processes=options["processes"],
            ready=ready,
        )
