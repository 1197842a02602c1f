"""Classification is a pure function of the headers: RFC 3834's never-answer rules hold for
any message that carries one of the markers, whatever else it says."""

from __future__ import annotations

from hypothesis import given
from hypothesis import settings as run
from hypothesis import strategies as st
from mail_helpers import eml

from caredesk.mail.classify import dmarc_result, kind, no_ack_reason
from caredesk.mail.parse import parse

MARKERS = [
    ("Auto-Submitted", "auto-replied"),
    ("Auto-Submitted", "auto-generated"),
    ("Auto-Submitted", "auto-notified; owner-email=x@acme.test"),
    ("Precedence", "bulk"),
    ("Precedence", "junk"),
    ("Precedence", "list"),
    ("Precedence", "auto_reply"),
    ("X-Auto-Response-Suppress", "All"),
    ("X-Auto-Response-Suppress", "OOF, AutoReply"),
    ("List-Id", "<users.lists.acme.test>"),
    ("List-Unsubscribe", "<mailto:leave@lists.acme.test>"),
    ("X-Autoreply", "yes"),
    ("Return-Path", "<>"),
]
words = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FFF, exclude_characters="\r\n"),
    max_size=60,
)


@given(st.sampled_from(MARKERS), words, words)
@run(max_examples=300, deadline=None)
def test_no_acknowledgement_ever_goes_to_marked_mail(marker, subject: str, body: str) -> None:
    mail = parse(eml(subject=subject, body=body, headers=dict([marker])))

    assert no_ack_reason(mail, envelope_from=None)


@given(words, words)
@run(max_examples=200, deadline=None)
def test_a_plain_message_from_a_person_may_be_acknowledged(subject: str, body: str) -> None:
    mail = parse(eml(subject="Question " + subject, body=body))

    assert no_ack_reason(mail, envelope_from="alice@acme.test") == ""
    assert not kind(mail, envelope_from="alice@acme.test").bounce


def test_auto_submitted_no_is_a_person() -> None:
    mail = parse(eml(headers={"Auto-Submitted": "no"}))

    assert not kind(mail, envelope_from=None).auto_reply
    assert no_ack_reason(mail, None) == ""


def test_dmarc_verdict_comes_from_the_topmost_trusted_header_only() -> None:
    mail = parse(
        eml(
            headers={
                "Authentication-Results": "mx.ours.test; dmarc=pass header.from=acme.test",
            }
        ).replace(
            b"MIME-Version",
            b"Authentication-Results: mx.ours.test; dmarc=fail\r\nMIME-Version",
        )
    )

    assert dmarc_result(mail, ["mx.ours.test"]) == "fail"  # the one nearest the top
    assert dmarc_result(mail, ["other.test"]) == ""
    assert dmarc_result(mail, []) == ""
