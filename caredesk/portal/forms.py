"""Forms of the portal and of signing in."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from caredesk.people.models import User
from caredesk.portal.web import Form, MultipleFileField
from caredesk.servicemodel.choices import Priority
from caredesk.status.models import Environment
from caredesk.tickets.services import MAX_TEXT


class SignInForm(AuthenticationForm):
    # The field keeps Django's name "username" because axes reads that name
    # (AXES_USERNAME_FORM_FIELD); people see and type an email address.
    username = forms.EmailField(
        label="Email",
        max_length=254,
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    error_messages = {
        "invalid_login": (
            "That email and password do not match an account. Check both and try again;"
            " after several failures sign-in pauses for a while."
        ),
        "inactive": "This account is switched off. Ask your administrator to enable it.",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean_username(self) -> str:
        return str(self.cleaned_data["username"]).strip().lower()


class RequestForm(Form):
    subject = forms.CharField(
        max_length=300,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text="A short summary, such as “Dialer campaign will not start”.",
    )
    description = forms.CharField(
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="What happened, what you expected, and any error messages or campaign names.",
    )
    environment = forms.ChoiceField(required=False, label="Environment")
    priority = forms.ChoiceField(
        label="How urgent is it?",
        choices=[
            (Priority.LOW, "Low: a question, no hurry"),
            (Priority.MEDIUM, "Medium: work is slowed down"),
            (Priority.HIGH, "High: work is blocked for some of us"),
            (Priority.CRITICAL, "Critical: a system is down for everyone"),
        ],
        initial=Priority.MEDIUM,
        help_text="A hint for our team; a representative confirms the priority.",
    )
    attachments = MultipleFileField(help_text="Screenshots, logs or exports, if they help.")

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        envs = Environment.objects.all()
        if user.organization_id:
            own = envs.filter(organizations=user.organization_id)
            if own.exists():
                envs = own
        cast(forms.ChoiceField, self.fields["environment"]).choices = [
            ("", "Not sure / not applicable")
        ] + [(e.key, e.name if e.name == e.key else f"{e.key} — {e.name}") for e in envs]


class PortalReplyForm(Form):
    body = forms.CharField(
        label="Your reply", max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 5})
    )
    attachments = MultipleFileField()
