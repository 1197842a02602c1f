"""`caredesk shift add EMAIL --weekly "mon-fri 22:00-07:00"` (or `--from ISO --to ISO`),
`caredesk shift list [EMAIL]`, `caredesk shift remove ID`: agents' optional shifts."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from caredesk.core.clock import now
from caredesk.core.errors import DomainError
from caredesk.people import services, shifts


class Command(BaseCommand):
    help = (
        "Agents' shifts. An agent without shifts follows their team's hours; an agent with "
        "shifts is on duty only inside one of them. Times are in the service's time zone."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="add a weekly or a dated shift to an agent's rota")
        add.add_argument("email")
        add.add_argument(
            "--weekly",
            metavar="SPEC",
            help='days and hours, e.g. "mon-fri 22:00-07:00" (overnight runs into the next '
            'day), "sat,sun 07:00-22:00", "sun 18:00-24:00"',
        )
        add.add_argument(
            "--from",
            dest="starts",
            metavar="ISO",
            help="a dated shift's start, e.g. 2026-12-24T22:00 (no offset: the service's zone)",
        )
        add.add_argument("--to", dest="ends", metavar="ISO", help="a dated shift's end")
        add.add_argument("--note", default="")
        listing = sub.add_parser("list", help="list shifts, of one agent or of everyone")
        listing.add_argument("email", nargs="?")
        remove = sub.add_parser("remove", help="remove a shift by its ID (see list)")
        remove.add_argument("id", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"_{options['action']}")(options)
        except DomainError as exc:
            raise CommandError(exc.message) from None

    def _add(self, options: dict[str, Any]) -> None:
        weekly, starts, ends = options["weekly"], options["starts"], options["ends"]
        if weekly is not None and (starts or ends):
            raise CommandError("Give --weekly, or --from and --to; not both.")
        if weekly is None and not (starts and ends):
            raise CommandError('Give --weekly "mon-fri 22:00-07:00", or both --from and --to.')
        agent = services.get_user(options["email"])
        zone = shifts.service_zone()
        shift = shifts.add_shift(
            agent,
            actor=None,
            source="cli",
            weekly=weekly,
            starts_at=shifts.parse_instant(starts, field="from", zone=zone) if starts else None,
            ends_at=shifts.parse_instant(ends, field="to", zone=zone) if ends else None,
            note=options["note"],
        )
        self.stdout.write(
            f"Added shift {shift.pk} for {agent.email}: {shifts.describe(shift, zone)} ({zone})."
        )

    def _list(self, options: dict[str, Any]) -> None:
        agent = services.get_user(options["email"]) if options["email"] else None
        found = list(shifts.shifts_of(agent))
        if not found:
            whose = f"{agent.email} has" if agent else "Nobody has"
            self.stdout.write(
                f"{whose} no shifts: agents without shifts follow their team's hours."
            )
            return
        zone, at = shifts.service_zone(), now()
        self.stdout.write(f"Shifts ({zone}):")
        for shift in found:
            over = " (over)" if shift.ends_at is not None and shift.ends_at <= at else ""
            note = f"  {shift.note}" if shift.note else ""
            self.stdout.write(
                f"{shift.pk:>6}  {shift.agent.email}  {shifts.describe(shift, zone)}{over}{note}"
            )

    def _remove(self, options: dict[str, Any]) -> None:
        shift = shifts.remove_shift(options["id"], actor=None, source="cli")
        self.stdout.write(f"Removed shift {options['id']} of {shift.agent.email}: {shift}.")
