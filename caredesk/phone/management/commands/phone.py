"""`caredesk phone simulate`: play a realistic day of calls through a running caredesk's
CTI API and print the service level it produced."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from caredesk.core.clock import now
from caredesk.phone import simulate
from caredesk.phone.service_level import TARGET_SECONDS


class Command(BaseCommand):
    help = "Phone channel tools."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sim = sub.add_parser(
            "simulate",
            help="play a day of calls through a running caredesk's CTI API",
            description=(
                "Calls arrive by an hourly profile, queue for the first free agent, are "
                "handled for a few minutes or hang up when their patience runs out; each "
                "event goes to POST <url>/api/v1/cti/<token> with its timestamp."
            ),
        )
        sim.add_argument("--url", default="http://127.0.0.1:8000", help="caredesk's address")
        sim.add_argument("--token", required=True, help="an intake token (caredesk token create)")
        sim.add_argument("--calls", type=int, default=400, help="calls over the day (about)")
        sim.add_argument("--agents", type=int, default=3, help="agents answering at once")
        sim.add_argument(
            "--extensions",
            default="",
            help="comma list of agents' extensions to answer from (default 201, 202, …)",
        )
        sim.add_argument(
            "--speed",
            type=float,
            default=0.0,
            help="simulated seconds per real second (e.g. 600); 0 plays as fast as it can",
        )
        sim.add_argument("--concurrency", type=int, default=4, help="senders at speed 0")
        sim.add_argument("--day", type=date.fromisoformat, help="the day (default: yesterday)")
        sim.add_argument("--time-zone", default="America/New_York")
        sim.add_argument("--to", default="+18884773448", help="the number callers dial")
        sim.add_argument("--seed", type=int, default=1, help="the same seed plays the same day")
        sim.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["calls"] < 1 or options["agents"] < 1:
            raise CommandError("--calls and --agents must be at least 1.")
        try:
            zone = ZoneInfo(options["time_zone"])
        except (ZoneInfoNotFoundError, ValueError):
            raise CommandError(f"Unknown time zone {options['time_zone']!r}.") from None
        day = options["day"] or (now().astimezone(zone).date() - timedelta(days=1))
        extensions = [e.strip() for e in options["extensions"].split(",") if e.strip()] or [
            str(201 + n) for n in range(options["agents"])
        ]
        planned = simulate.plan_day(
            day=day,
            calls=options["calls"],
            agents=options["agents"],
            zone=zone,
            seed=options["seed"],
        )
        plan = simulate.steps(
            planned, to=options["to"], extension=lambda n: extensions[n % len(extensions)]
        )
        self.stdout.write(f"{len(planned)} calls on {day} ({len(plan)} events) to {options['url']}")
        bar = tqdm(total=len(plan), unit="event", disable=options["no_progress"], file=self.stderr)
        try:
            played = simulate.play(
                plan,
                url=options["url"],
                token=options["token"],
                speed=options["speed"],
                concurrency=options["concurrency"],
                progress=bar.update,
            )
        except KeyboardInterrupt:
            raise CommandError("Stopped; the events sent so far are recorded.") from None
        finally:
            bar.close()
        rate = played.sent / played.seconds if played.seconds else 0.0
        self.stdout.write(f"sent {played.sent} events in {played.seconds:.1f} s ({rate:.0f}/s)")
        if played.routed:
            routed = ", ".join(f"{k} {v}" for k, v in sorted(played.routed.items()))
            self.stdout.write(f"routed: {routed}")
        level = simulate.figures(planned)
        self.stdout.write(
            f"offered {level.offered}, answered {level.answered}, abandoned {level.abandoned}"
            f" (+{level.short_abandoned} short), busy or failed {level.other_missed}"
        )
        self.stdout.write(
            f"service level {level.service_level}% answered within {TARGET_SECONDS:.0f} s;"
            f" ASA {level.asa_seconds} s; average handle {level.handle_seconds} s"
        )
        if played.errors:
            for error, count in played.errors.most_common(5):
                self.stderr.write(f"{count} x {error}")
            raise CommandError(f"{sum(played.errors.values())} events were refused.")
