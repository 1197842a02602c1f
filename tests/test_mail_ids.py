"""Our signed identifiers and header checks, for any input (hypothesis): nothing but a
value we made ourselves maps back to a ticket or a mail, and no header value we accept
carries a line break or control character."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import settings as run
from hypothesis import strategies as st

from caredesk.core.errors import InvalidInput
from caredesk.mail import ids
from caredesk.mail.headers import address, header_value
from caredesk.mail.models import OutboundMail
from caredesk.people.models import User
from caredesk.servicemodel.choices import Channel
from caredesk.tickets import services

CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Strings shaped like ours, so the signature check itself is what refuses them.
LOOKALIKE = st.builds(
    lambda pk, nonce, sig: f"<cd.{pk}.{nonce}.{sig}@care.example>",
    st.from_regex(r"\A[0-9a-z]{1,3}\Z"),
    st.from_regex(r"\A[a-z2-7]{8}\Z"),
    st.from_regex(r"\A[a-z2-7]{16}\Z"),
)


@pytest.mark.django_db
@run(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=300), LOOKALIKE))
def test_no_made_up_message_id_names_a_ticket(value: str) -> None:
    assert ids.ticket_for_message_id(value) is None


@pytest.mark.django_db
@run(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(max_size=300),
        st.builds(
            lambda pk, sig: f"bounces+{pk}.{sig}@care.example",
            st.from_regex(r"\A[0-9a-z]{1,3}\Z"),
            st.from_regex(r"\A[a-z2-7]{16}\Z"),
        ),
    )
)
def test_no_made_up_bounce_address_names_a_mail(value: str) -> None:
    assert ids.outbound_for_bounce_address(value) is None


def test_every_id_we_make_maps_back(rep: User, alice: User) -> None:
    ticket = services.open_case(actor=rep, subject="Dialer", channel=Channel.EMAIL, requester=alice)
    made = {ids.make_message_id(ticket) for _ in range(200)}
    assert len(made) == 200, "each Message-ID is new"
    assert all(ids.ticket_for_message_id(m) == ticket for m in made)
    mails = [
        OutboundMail.objects.create(
            ticket=ticket, kind="reply", from_header="f", subject="s", text="t",
            message_id=m, created_at=timezone.now(),
        )
        for m in list(made)[:50]
    ]  # fmt: skip
    assert all(ids.outbound_for_bounce_address(ids.bounce_address(m)) == m for m in mails)


@run(max_examples=500, deadline=None)
@given(st.text(max_size=200))
def test_a_header_value_is_accepted_only_without_control_characters(value: str) -> None:
    if CONTROL.search(value):
        with pytest.raises(InvalidInput):
            header_value(value, "subject")
    else:
        assert header_value(value, "subject") == value


@run(max_examples=500, deadline=None)
@given(st.text(max_size=80))
def test_an_accepted_address_is_one_plain_ascii_mailbox(value: str) -> None:
    try:
        accepted = address(value, "to")
    except InvalidInput:
        return
    assert accepted.isascii() and accepted.count("@") == 1
    assert not set(accepted) & set(' ,;<>()[]\\"\r\n\t')
