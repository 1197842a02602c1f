"""Forms of the agent desk; each one feeds one service call."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.db.models import Q

from caredesk.desk.widgets import Select
from caredesk.people.access import visible_agents, visible_organizations
from caredesk.people.models import Organization, User
from caredesk.portal.web import Form, MultipleFileField
from caredesk.servicemodel.choices import EMERGENCY_TEAM, Channel, Priority, Role
from caredesk.servicemodel.models import Category, TicketType
from caredesk.status.models import Environment
from caredesk.tickets.models import Ticket, WorkOrder
from caredesk.tickets.services import MAX_TEXT
from caredesk.tickets.states import Status
from caredesk.tickets.work_orders import MOVES


class QueueFilterForm(Form):
    q = forms.CharField(
        required=False,
        label="Search",
        widget=forms.SearchInput(
            attrs={
                "placeholder": "Number, words, requester or organization",
                "autocomplete": "off",
            }
        ),
    )
    team = forms.ChoiceField(required=False, label="Team", widget=Select)
    status = forms.ChoiceField(
        required=False,
        choices=[("", "Any open status"), *Status.choices],
        label="Status",
        widget=Select,
    )
    priority = forms.ChoiceField(
        required=False,
        choices=[("", "Any priority"), *Priority.choices],
        label="Priority",
        widget=Select,
    )
    assignee = forms.ChoiceField(required=False, label="Assignee", widget=Select)
    organization: forms.ModelChoiceField[Organization] = forms.ModelChoiceField(
        queryset=None,  # the user's visible ones, set in __init__
        required=False,
        label="Organization",
        empty_label="Any organization",
        widget=Select,
    )

    def __init__(
        self,
        *args: Any,
        user: User,
        teams: list[tuple[str, str]],
        agents: list[User],
        **kw: Any,
    ):
        super().__init__(*args, **kw)
        organizations = cast(forms.ModelChoiceField, self.fields["organization"])
        organizations.queryset = visible_organizations(user).order_by("name")
        cast(forms.ChoiceField, self.fields["team"]).choices = [("", "Any team"), *teams]
        cast(forms.ChoiceField, self.fields["assignee"]).choices = [
            ("", "Anyone"),
            ("me", "Me"),
            ("none", "Unassigned"),
            *[(str(a.pk), a.display_name) for a in agents],
        ]


BULK_STATUSES = [
    (Status.OPEN, "Open"),
    (Status.WAITING_ON_CUSTOMER, "Waiting on customer"),
    (Status.RESOLVED, "Resolved"),
    (Status.CLOSED, "Closed"),
]


class NumbersField(forms.Field):
    """Ticket numbers from checkboxes of one name; the view checks each against access."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {"required": "Check at least one ticket."}

    def to_python(self, value: Any) -> list[str]:
        values = value if isinstance(value, list | tuple) else [value] if value else []
        return [str(v).strip() for v in values if str(v).strip()]


class BulkForm(Form):
    """The same change for every checked ticket of a list."""

    tickets = NumbersField(label="Tickets")
    agent = forms.ChoiceField(required=False, label="Assign to", widget=Select)
    status = forms.ChoiceField(
        required=False, label="Set status", choices=[("", "—"), *BULK_STATUSES], widget=Select
    )
    next = forms.CharField(required=False)

    def __init__(self, *args: Any, agents: list[User], **kw: Any):
        # Its own ids: the list's filter form, on the same page, has a "status" field too.
        kw.setdefault("auto_id", "bulk_%s")
        super().__init__(*args, **kw)
        cast(forms.ChoiceField, self.fields["agent"]).choices = [
            ("", "—"),
            ("me", "Me"),
            ("none", "Nobody (unassign)"),
            *[(str(a.pk), a.display_name) for a in agents],
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("agent") and not data.get("status"):
            raise forms.ValidationError("Choose an assignee or a status for the checked tickets.")
        return data


class BodyForm(Form):
    body = forms.CharField(max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 4}))
    attachments = MultipleFileField(
        help_text=f"Up to {MultipleFileField.MAX_FILES} files,"
        f" {settings.MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB each."
    )


class ReplyForm(BodyForm):
    prefix = "reply"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["body"].label = "Reply to the customer (sent by email)"


class NoteForm(BodyForm):
    prefix = "note"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["body"].label = "Internal note (agents only)"


class EscalateForm(Form):
    prefix = "escalate"
    to = forms.ChoiceField(label="Escalation path", widget=forms.RadioSelect)
    category = forms.ChoiceField(
        required=False,
        widget=Select,
        label="Project Coordination category",
        help_text="Needed for Project Coordination; Platform Changes and Creation Requests"
        " need a Work Order.",
    )
    reason = forms.CharField(
        max_length=MAX_TEXT,
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why it goes there.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["to"]).choices = [
            (t.key, t.name) for t in TicketType.objects.filter(escalation=True)
        ]
        cast(forms.ChoiceField, self.fields["category"]).choices = [("", "—")] + [
            (c.key, f"{c.name} (Work Order)" if c.work_order else c.name)
            for c in Category.objects.all()
        ]


def active_agents(user: User) -> list[User]:
    """Every agent who may be given work, for the list filters and bulk assignment."""
    return list(visible_agents(user).filter(is_active=True).order_by("name", "email"))


def eligible_agents(user: User, ticket: Ticket) -> list[User]:
    """Agents who may work the ticket: its team, and Emergency Care (see services.may_work)."""
    return list(
        visible_agents(user)
        .filter(is_active=True)
        .filter(Q(team_id=ticket.team_id) | Q(team_id=EMERGENCY_TEAM) | Q(role=Role.EMERGENCY))
        .select_related("team")
        .order_by("team__position", "name", "email")
    )


class AssignForm(Form):
    prefix = "assign"
    # A plain value, not a choice: the service decides who may work the ticket and says why.
    agent = forms.CharField(required=False, label="Assign to", widget=Select)

    def __init__(self, *args: Any, agents: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agent"].widget.choices = [("", "Unassigned")] + [
            (str(a.pk), f"{a.display_name} ({a.team.name if a.team else a.get_role_display()})")
            for a in agents
        ]


class PriorityForm(Form):
    prefix = "priority"
    priority = forms.ChoiceField(choices=Priority.choices, label="Priority", widget=Select)


class CcForm(Form):
    """One address to copy on the ticket's email replies, or to stop copying."""

    prefix = "cc"
    email = forms.CharField(
        label="Copy someone else",
        max_length=254,
        widget=forms.EmailInput(attrs={"placeholder": "name@example.com", "autocomplete": "off"}),
    )


STATUS_ACTIONS = {
    "open": "Mark open",
    "waiting_on_customer": "Wait on customer",
    "resolved": "Resolve",
    "closed": "Close",
    "reopen": "Reopen",
}


class StatusForm(Form):
    prefix = "status"
    action = forms.ChoiceField(choices=list(STATUS_ACTIONS.items()))


class WorkOrderForm(Form):
    prefix = "wo"
    scope = forms.CharField(
        max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 4}), label="Scope"
    )
    requested_by = forms.CharField(required=False, max_length=200, label="Requested by")
    estimate = forms.CharField(
        required=False, max_length=100, label="Estimate", help_text="For example “3 days”."
    )


class WorkOrderMoveForm(Form):
    prefix = "wom"
    action = forms.ChoiceField(choices=[(a, a) for a in MOVES])
    note = forms.CharField(required=False, max_length=MAX_TEXT, label="Decision note")
    scheduled_for = forms.DateTimeField(
        required=False,
        label="Scheduled for",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


WORK_ORDER_BUTTONS = {
    "send": "Send for approval",
    "approve": "Record approval",
    "decline": "Record decline",
    "revise": "Revise",
    "schedule": "Schedule",
    "done": "Mark done",
}


def work_order_actions(order: WorkOrder | None) -> list[tuple[str, str]]:
    if order is None:
        return []
    return [
        (a, WORK_ORDER_BUTTONS[a]) for a, (sources, _) in MOVES.items() if order.state in sources
    ]


class NewCaseForm(Form):
    requester_email = forms.EmailField(
        label="Caller's email",
        widget=forms.EmailInput(attrs={"autocomplete": "off", "autofocus": True}),
    )
    requester_name = forms.CharField(
        required=False,
        max_length=200,
        label="Caller's name",
        help_text="For a new contact; known contacts keep their name.",
    )
    organization: forms.ModelChoiceField[Organization] = forms.ModelChoiceField(
        queryset=None,  # the user's visible ones, set in __init__
        required=False,
        empty_label="From the email's domain",
        label="Organization",
        widget=Select,
    )
    subject = forms.CharField(max_length=300)
    description = forms.CharField(
        required=False, max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 5})
    )
    priority = forms.ChoiceField(choices=Priority.choices, initial=Priority.MEDIUM, widget=Select)
    environment = forms.ModelChoiceField(
        queryset=Environment.objects.all(), required=False, empty_label="—", widget=Select
    )
    channel = forms.ChoiceField(
        choices=[(Channel.PHONE, "Phone"), (Channel.EMAIL, "Email")],
        initial=Channel.PHONE,
        widget=Select,
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ModelChoiceField, self.fields["organization"])
        field.queryset = visible_organizations(user)
