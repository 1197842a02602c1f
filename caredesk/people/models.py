"""People: customer organizations and their contacts, agents in teams, API tokens."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models

from caredesk.servicemodel.choices import AGENT_ROLES, Role
from caredesk.servicemodel.models import Team
from caredesk.status.models import Environment


class Organization(models.Model):
    key = models.SlugField(unique=True, max_length=100)
    name = models.CharField(max_length=200)
    # Contacts see their colleagues' tickets unless an admin turns this off.
    shares_tickets = models.BooleanField(default=True)
    environments = models.ManyToManyField(Environment, blank=True, related_name="organizations")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class OrganizationDomain(models.Model):
    """An email domain whose unknown senders become contacts of the organization."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="domains")
    domain = models.CharField(max_length=253, unique=True)

    def __str__(self) -> str:
        return self.domain


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields: Any) -> User:
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password) if password else user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> User:
        fields.update(role=Role.ADMIN, is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """Everyone who signs in or writes to us: agents (by role and team) and customer contacts."""

    email = models.EmailField(unique=True)
    name = models.CharField(max_length=200, blank=True)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.CUSTOMER)
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, null=True, blank=True, related_name="members"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="contacts"
    )
    phone = models.CharField(max_length=32, blank=True, db_index=True, help_text="E.164")
    extension = models.CharField(max_length=20, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="May use the admin site.")
    date_joined = models.DateTimeField(auto_now_add=True)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.name else self.email

    @property
    def is_agent(self) -> bool:
        return self.role in AGENT_ROLES

    @property
    def display_name(self) -> str:
        return self.name or self.email


class TokenScope(models.TextChoices):
    READ = "read", "Read"
    WRITE = "write", "Write"
    INTAKE = "intake", "Intake"
    STATUS = "status", "Status"
    ALL = "all", "All of the user's rights"


class ApiToken(models.Model):
    """An API token; only a keyed hash of it is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="tokens")
    name = models.CharField(max_length=200, blank=True)
    prefix = models.CharField(max_length=12, help_text="The first characters, to recognise it.")
    digest = models.CharField(max_length=64, unique=True)
    scope = models.CharField(max_length=10, choices=TokenScope.choices, default=TokenScope.ALL)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user.email}, {self.scope})"


class PresenceStatus(models.TextChoices):
    AVAILABLE = "available", "Available"
    BUSY = "busy", "Busy"
    AWAY = "away", "Away"
    OFFLINE = "offline", "Offline"


# Available and busy agents are at work: they count as on duty; away and offline do not.
ON_DUTY_PRESENCE = frozenset({PresenceStatus.AVAILABLE, PresenceStatus.BUSY})


class Presence(models.Model):
    """An agent's current presence; an agent without a row is offline."""

    agent = models.OneToOneField(
        User, on_delete=models.CASCADE, primary_key=True, related_name="presence"
    )
    status = models.CharField(
        max_length=10, choices=PresenceStatus.choices, default=PresenceStatus.OFFLINE
    )
    since = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.agent_id} {self.status}"


class PresenceChange(models.Model):
    """Append-only audit of presence changes: who set whom to what, and when."""

    agent = models.ForeignKey(User, on_delete=models.CASCADE, related_name="presence_changes")
    actor = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    before = models.CharField(max_length=10, choices=PresenceStatus.choices)
    after = models.CharField(max_length=10, choices=PresenceStatus.choices)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["agent", "at"], name="presence_change_agent_at")]

    def __str__(self) -> str:
        return f"{self.agent_id} {self.before} -> {self.after}"


class Shift(models.Model):
    """One line of an agent's rota: weekly on some days, or once between two instants.

    An agent with shifts is on duty only inside one of them (people/coverage.py). A weekly
    shift reads the wall clock of the service's time zone; one that ends at or before its
    start runs into the next day ("22:00-07:00"), and an end of 00:00 is midnight (24:00).
    """

    agent = models.ForeignKey(User, on_delete=models.CASCADE, related_name="shifts")
    days = models.CharField(
        max_length=40, blank=True, help_text='Weekly: "mon-fri", "sat,sun"; blank for a dated one.'
    )
    start = models.TimeField(null=True, blank=True, help_text="Weekly: the start, e.g. 22:00.")
    end = models.TimeField(
        null=True,
        blank=True,
        help_text="Weekly: the end, e.g. 07:00; at or before the start means the next day "
        "(00:00 is midnight).",
    )
    starts_at = models.DateTimeField(null=True, blank=True, help_text="Dated: from (UTC).")
    ends_at = models.DateTimeField(null=True, blank=True, help_text="Dated: until (UTC).")
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["agent_id", "starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                name="shift_weekly_or_dated",
                condition=(
                    ~models.Q(days="")
                    & models.Q(start__isnull=False, end__isnull=False)
                    & models.Q(starts_at__isnull=True, ends_at__isnull=True)
                )
                | (
                    models.Q(days="", start__isnull=True, end__isnull=True)
                    & models.Q(starts_at__isnull=False, ends_at__gt=models.F("starts_at"))
                ),
            )
        ]

    def __str__(self) -> str:
        from caredesk.people.shifts import describe

        return describe(self)

    @property
    def weekly(self) -> bool:
        return bool(self.days)

    def clean(self) -> None:
        from caredesk.people.shifts import check

        super().clean()
        check(self)
