"""The service model: what the customer's guide fixes, as editable configuration.

Configured things are keyed by their kebab-case key (the primary key), so a
ticket's `team_id` already is the key the API shows.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import models

from caredesk.servicemodel.choices import Channel, Priority, Role

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _default_hours() -> dict[str, list[str]]:
    return {day: [] for day in WEEKDAYS}


class Calendar(models.Model):
    key = models.SlugField(primary_key=True, max_length=50)
    name = models.CharField(max_length=200)
    time_zone = models.CharField(max_length=64, default="America/New_York")
    # {"mon": ["07:00-24:00"], ...}; "24:00" is the end of the day.
    hours = models.JSONField(default=_default_hours)
    # Dates ("2026-12-25") on which the calendar is closed.
    holidays = models.JSONField(default=list, blank=True)
    # {"2026-12-24": ["07:00-14:00"], "2026-12-31": []}: a date's own hours; [] closes it.
    # An exception wins over the week, listed holidays and public holidays.
    exceptions = models.JSONField(default=dict, blank=True)
    # A country's public holidays (the `holidays` package, e.g. "US", optionally with a
    # subdivision such as "NY") close the calendar like listed holidays; blank: none.
    holiday_country = models.CharField(max_length=8, blank=True, default="")
    holiday_subdivision = models.CharField(max_length=16, blank=True, default="")

    def __str__(self) -> str:
        return self.name

    def public_holidays_label(self) -> str:
        """ "US-NY", "US" or "" (none)."""
        if not self.holiday_country:
            return ""
        if self.holiday_subdivision:
            return f"{self.holiday_country}-{self.holiday_subdivision}"
        return self.holiday_country

    def exception_labels(self) -> list[str]:
        """ "2026-12-24 07:00-14:00", "2026-12-31 closed", by date."""
        return [
            f"{day} {', '.join(spans) or 'closed'}"
            for day, spans in sorted((self.exceptions or {}).items())
        ]

    def clean(self) -> None:
        from caredesk.servicemodel.public_holidays import public_holidays_problem

        super().clean()
        if self.holiday_subdivision and not self.holiday_country:
            raise ValidationError({"holiday_subdivision": "Needs a holiday country."})
        if self.holiday_country:
            problem = public_holidays_problem(self.holiday_country, self.holiday_subdivision)
            if problem is not None:
                field_name = (
                    "holiday_subdivision" if problem[0] == "subdivision" else ("holiday_country")
                )
                raise ValidationError({field_name: problem[1]})


class Team(models.Model):
    key = models.SlugField(primary_key=True, max_length=50)
    name = models.CharField(max_length=200)
    role = models.CharField(max_length=20, choices=Role.choices)
    email = models.EmailField(blank=True)
    calendar = models.ForeignKey(Calendar, on_delete=models.PROTECT, related_name="+")
    # Emergency Care covers every team outside staffed hours and on overflow.
    covers = models.BooleanField(default=False)
    description = models.TextField(blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "key"]

    def __str__(self) -> str:
        return self.name


class TicketType(models.Model):
    key = models.SlugField(primary_key=True, max_length=50)
    name = models.CharField(max_length=200)
    number_format = models.CharField(max_length=50, help_text='For example "CASE-{n}" or "{n}".')
    first_number = models.PositiveIntegerField()
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="ticket_types")
    escalation = models.BooleanField(default=False, help_text="Opened only by escalating a case.")
    subjects = models.JSONField(default=list, blank=True)
    triage_keywords = models.JSONField(default=list, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "key"]

    def __str__(self) -> str:
        return self.name

    def format_number(self, n: int) -> str:
        return self.number_format.replace("{n}", str(n))


class TicketCounter(models.Model):
    """One row per ticket type, locked inside the creating transaction."""

    ticket_type = models.OneToOneField(
        TicketType, on_delete=models.CASCADE, primary_key=True, related_name="counter"
    )
    next_number = models.PositiveBigIntegerField()

    def __str__(self) -> str:
        return f"{self.ticket_type_id}: next {self.next_number}"


class Category(models.Model):
    key = models.SlugField(primary_key=True, max_length=50)
    name = models.CharField(max_length=200)
    ticket_type = models.ForeignKey(TicketType, on_delete=models.PROTECT, related_name="categories")
    work_order = models.BooleanField(default=False, help_text="Needs an approved Work Order.")
    description = models.TextField(blank=True)
    keywords = models.JSONField(default=list, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "key"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class PriorityLevel(models.Model):
    key = models.CharField(primary_key=True, max_length=20, choices=Priority.choices)
    name = models.CharField(max_length=50)
    rank = models.PositiveSmallIntegerField()
    escalation_target = models.DurationField(default=timedelta(hours=1))
    escalation_calendar = models.ForeignKey(Calendar, on_delete=models.PROTECT, related_name="+")
    emergency_escalation_target = models.DurationField(default=timedelta(hours=2))

    class Meta:
        ordering = ["rank"]

    def __str__(self) -> str:
        return self.name


class ChannelTarget(models.Model):
    key = models.CharField(primary_key=True, max_length=20, choices=Channel.choices)
    name = models.CharField(max_length=50)
    first_response_target = models.DurationField()
    first_response_calendar = models.ForeignKey(
        Calendar, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.name


class ServiceSettings(models.Model):
    """The model's single row of global settings (contact points, SLA knobs, status page)."""

    name = models.CharField(max_length=200, default="caredesk")
    time_zone = models.CharField(max_length=64, default="America/New_York")
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=32, blank=True)
    status_page = models.CharField(max_length=200, blank=True)
    default_priority = models.CharField(
        max_length=20, choices=Priority.choices, default=Priority.MEDIUM
    )
    warning_ratio = models.FloatField(default=0.8)
    pause_when_waiting = models.JSONField(default=list, blank=True)
    emergency_calendar = models.ForeignKey(
        Calendar, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    status_page_name = models.CharField(max_length=200, blank=True)
    status_page_url = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = "service settings"
        verbose_name_plural = "service settings"

    def __str__(self) -> str:
        return self.name

    @classmethod
    def current(cls) -> ServiceSettings:
        return cls.objects.first() or cls()
