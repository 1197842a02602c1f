"""Forms of the desk's status editor; each feeds one service call in services.py.

Choices are offered as plain values (a select of strings, not a ChoiceField): the
services decide what is allowed and say why, so the rules live in one place.
"""

from __future__ import annotations

from typing import Any

from django import forms

from caredesk.portal.web import Form
from caredesk.status.models import (
    INCIDENT_STATUSES,
    MAINTENANCE_STATUSES,
    Component,
    ComponentStatus,
    Environment,
    Impact,
    IncidentStatus,
)

STATUS_CHOICES = list(ComponentStatus.choices)
IMPACT_CHOICES = [(v, label) for v, label in Impact.choices if v != Impact.MAINTENANCE]
DATETIME = {
    "input_formats": ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    "widget": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
}


def _select(choices: list[tuple[str, str]], **kwargs: Any) -> forms.CharField:
    return forms.CharField(widget=forms.Select(choices=choices), **kwargs)


def _environments() -> list[tuple[str, str]]:
    return [("", "Any (several environments)")] + [
        (e.key, e.name) for e in Environment.objects.all()
    ]


class ComponentForm(Form):
    status = _select(STATUS_CHOICES, label="Status")
    version = forms.CharField(required=False, label="Version")


class ComponentStatusesMixin:
    """One select per component: "" leaves it as it is."""

    fields: dict[str, forms.Field]
    cleaned_data: dict[str, Any]
    blank_label = "Not affected"

    def add_component_fields(self, components: list[Component]) -> None:
        self.components = components
        choices = [("", self.blank_label), *STATUS_CHOICES]
        for c in components:
            self.fields[f"c{c.pk}"] = _select(
                choices, required=False, label=f"{c.environment_id} {c.name}"
            )

    def component_statuses(self) -> dict[int, str]:
        return {
            c.pk: self.cleaned_data[f"c{c.pk}"]
            for c in self.components
            if self.cleaned_data.get(f"c{c.pk}")
        }

    def component_rows(self) -> list[tuple[Component, Any]]:
        assert isinstance(self, forms.Form)
        return [(c, self[f"c{c.pk}"]) for c in self.components]


class IncidentForm(ComponentStatusesMixin, Form):
    name = forms.CharField(label="Title")
    status = _select(
        [(s, IncidentStatus(s).label) for s in INCIDENT_STATUSES if s != "postmortem"],
        label="Status",
        initial="investigating",
    )
    impact = _select(
        [("", "Follow the components' statuses"), *IMPACT_CHOICES],
        required=False,
        label="Impact",
    )
    environment = forms.CharField(required=False, label="Environment", widget=forms.Select)
    body = forms.CharField(
        label="First update",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What subscribers read first: what is affected and what you are doing.",
    )
    # Tickets to link once the incident exists (from a surge suggestion).
    tickets = forms.CharField(required=False, widget=forms.MultipleHiddenInput)

    def __init__(self, *args: Any, components: list[Component], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["environment"].widget.choices = _environments()
        self.add_component_fields(components)

    def clean_tickets(self) -> list[str]:
        values = self.data.getlist("tickets") if hasattr(self.data, "getlist") else []
        return [v for v in values if v.strip()]


class UpdateForm(ComponentStatusesMixin, Form):
    blank_label = "Unchanged"
    status = _select([(s, IncidentStatus(s).label) for s in INCIDENT_STATUSES], label="New status")
    impact = _select([("", "Unchanged"), *IMPACT_CHOICES], required=False, label="Impact")
    body = forms.CharField(label="Message", widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args: Any, components: list[Component], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.add_component_fields(components)


class MaintenanceForm(Form):
    name = forms.CharField(label="Title")
    environment = forms.CharField(required=False, label="Environment", widget=forms.Select)
    components = forms.MultipleChoiceField(
        label="Components", widget=forms.CheckboxSelectMultiple, required=False
    )
    scheduled_for = forms.DateTimeField(label="Starts", **DATETIME)  # type: ignore[arg-type]
    scheduled_until = forms.DateTimeField(label="Ends", **DATETIME)  # type: ignore[arg-type]
    target_version = forms.CharField(
        required=False,
        label="Target version",
        help_text="For an upgrade: the version the components run when it completes. "
        "An upgrade is announced to subscribers at once.",
    )
    auto_transition = forms.BooleanField(
        required=False, initial=True, label="Start and complete on time by itself"
    )
    body = forms.CharField(
        label="Announcement", widget=forms.Textarea(attrs={"rows": 4}), help_text="What changes."
    )

    def __init__(self, *args: Any, components: list[Component], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["environment"].widget.choices = _environments()
        field = self.fields["components"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [
            (str(c.pk), f"{c.environment_id} {c.name} {c.version}".strip()) for c in components
        ]


class MaintenanceMoveForm(Form):
    status = _select([(s, IncidentStatus(s).label) for s in MAINTENANCE_STATUSES], label="Move to")
    body = forms.CharField(
        required=False,
        label="Message",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Left empty: the usual words for the move.",
    )


class LinkForm(Form):
    ticket = forms.CharField(label="Ticket number", max_length=32)
