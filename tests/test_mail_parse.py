"""Parsing: charsets never crash, names and types are made safe, HTML is sanitized, and
quoted history folds for display while the full text is kept."""

# ruff: noqa: RUF001 -- the fixtures are in many scripts on purpose

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import settings as run
from hypothesis import strategies as st
from mail_helpers import corpus_file, eml

from caredesk.mail import charsets
from caredesk.mail.files import sniff
from caredesk.mail.parse import ParseError, clean_address, parse, sanitize_html
from caredesk.mail.quoting import split_quoted


@pytest.mark.parametrize(
    ("name", "subject", "phrase"),
    [
        ("012-koi8-r.eml", "Проблема с записью", "записи звонков"),
        ("013-iso-2022-jp.eml", "通話が切れる", "通話が切れます"),
        ("014-gb2312-alias.eml", "系统故障", "无法登录"),
        ("015-x-gbk-label.eml", "财务报表", "导出通话记录"),
        ("016-gb-2312-80-label.eml", "help", "测试邮件"),
        ("017-windows-1252-labelled-utf8.eml", "Café order – status", "can’t see the “Reports”"),
        ("018-latin1-actually-cp1252.eml", "Résumé des appels", "“dashboards”"),
        ("019-shift-jis.eml", "テスト", "録音"),
        ("020-euc-kr.eml", "보고서 문제", "보고서"),
        ("021-big5.eml", "測試", "重設密碼"),
        ("022-unknown-charset.eml", "weird charset", "unknown charset"),
        ("024-iso-8859-8-i.eml", "שאלה", "בעיה"),
        ("025-ks-c-5601.eml", "로그인", "로그인"),
        ("026-raw-utf8-headers-rfc6532.eml", "Größenänderung der Warteschlange", "vergrößern"),
        ("029-rfc2047-names-and-subject.eml", "Не работает диалер", "Добрый"),
    ],
)
def test_legacy_and_mislabelled_charsets_decode(name: str, subject: str, phrase: str) -> None:
    mail = parse(corpus_file(name))

    assert mail.subject == subject
    assert phrase in mail.text


def test_rfc2047_display_names_and_rfc2231_file_names_decode(settings) -> None:
    names = parse(corpus_file("029-rfc2047-names-and-subject.eml"))
    files = parse(corpus_file("027-rfc2231-filename.eml"))
    continued = parse(corpus_file("028-rfc2231-continuations.eml"))

    assert names.from_name == "Анна Петрова"
    assert "ivan@acme.test" in names.recipients
    assert [f.filename for f in files.files] == ["Rechnung für Oktober.pdf"]
    assert files.files[0].content_type == "application/pdf"
    assert continued.files[0].filename == "報告書 very long name.txt"


def test_file_name_tricks_are_neutralised_and_types_sniffed(settings) -> None:
    mail = parse(corpus_file("054-filename-tricks.eml"))

    by_name = {f.filename: f for f in mail.files}
    assert set(by_name) == {"passwd", "invoicefdp.exe", "photo.png"}
    # A "PNG" that is really HTML is never labelled as an image or as HTML.
    assert by_name["photo.png"].content_type == "application/octet-stream"


def test_active_types_are_never_kept_under_their_own_label(settings) -> None:
    svg = parse(corpus_file("055-svg-attachment.eml")).files[0]

    assert svg.content_type == "application/octet-stream"
    assert sniff(b"%PDF-1.7", "text/html") == "application/pdf"
    assert sniff(b"<!DOCTYPE html><p>", "text/plain") == "application/octet-stream"


def test_an_attachment_over_the_limit_is_left_in_the_raw_message(settings) -> None:
    settings.MAX_ATTACHMENT_BYTES = 10
    mail = parse(corpus_file("008-pdf-attachment.eml"))

    assert mail.files == []
    assert "work-order.pdf" in mail.skipped_files[0]


def test_inline_images_are_kept_with_their_content_id(settings) -> None:
    mail = parse(corpus_file("007-outlook-related-inline-image.eml"))

    (image,) = mail.files
    assert image.inline and image.content_id == "image001.png@01DA"
    assert image.content_type == "image/png"
    assert 'src="cid:image001.png@01DA"' in mail.html


def test_html_is_sanitized_and_html_only_mail_gets_a_text_body(settings) -> None:
    hostile = parse(corpus_file("053-script-in-html.eml"))
    html_only = parse(corpus_file("005-html-only-marketing-client.eml"))

    for bad in ("<script", "onclick", "javascript:", "<iframe", "<style", "alert(3)"):
        assert bad not in hostile.html
    assert "Please add ivy@acme.test as an agent on NA4." in html_only.text
    assert "<" not in html_only.text


def test_header_values_are_single_lines_without_controls(settings) -> None:
    mail = parse(corpus_file("049-header-injection-attempt.eml"))

    assert "\n" not in mail.subject and "\r" not in mail.subject
    assert mail.subject == "Hello Bcc: victim@example.test"


def test_addresses_are_validated_here() -> None:
    assert clean_address("<Alice@Acme.Test>") == "alice@acme.test"
    assert clean_address("bob@bücher.test") == "bob@xn--bcher-kva.test"
    for bad in ("a@b", "a b@c.test", "a@b.test\r\nBcc: x@y.test", "<>", "@acme.test", "ä@x.test"):
        assert clean_address(bad) == ""


def test_too_deep_nesting_is_refused() -> None:
    with pytest.raises(ParseError, match="nested"):
        parse(corpus_file("090-deep-nesting.eml"))


def test_a_forwarded_message_is_kept_whole_as_an_attachment(settings) -> None:
    mail = parse(corpus_file("032-forward-as-attachment-rfc822.eml"))

    assert "Forwarding the original" in mail.text
    (original,) = mail.files
    assert original.filename == "original.eml"
    assert b"The original body." in original.data


@given(st.binary(max_size=300), st.sampled_from(["utf-8", "koi8-r", "gb2312", "nonsense", ""]))
@run(max_examples=200, deadline=None)
def test_decoding_never_raises(data: bytes, label: str) -> None:
    text = charsets.decode_bytes(data, label)
    assert "\x00" not in text


@given(st.binary(max_size=600))
@run(max_examples=150, deadline=None)
def test_parsing_random_bytes_raises_nothing_but_parse_error(data: bytes) -> None:
    with contextlib.suppress(ParseError):
        parse(b"From: a@acme.test\r\nSubject: x\r\n" + data)


@pytest.mark.parametrize(
    ("name", "new", "old"),
    [
        ("077-reply-english-gmail.eml", "It works again, thanks!", "Please try again now."),
        ("078-reply-german-outlook.eml", "Danke, es geht wieder.", "Bitte erneut versuchen."),
        ("079-reply-french.eml", "Merci, cela fonctionne.", "Veuillez réessayer."),
        ("080-reply-spanish.eml", "Gracias, ya funciona.", "inténtelo de nuevo"),
        ("081-reply-japanese.eml", "直りました", "もう一度お試しください"),
        ("082-reply-outlook-top-posted-html-sep.eml", "Still broken", "Please try again now."),
        ("083-reply-portuguese.eml", "Obrigada!", "Tente novamente."),
        ("084-reply-dutch.eml", "Bedankt.", "Probeer het opnieuw."),
    ],
)
def test_quoted_history_folds_in_every_language_and_the_full_text_is_kept(
    name: str, new: str, old: str
) -> None:
    text = parse(corpus_file(name)).text

    split = split_quoted(text)

    assert new in split.visible and old not in split.visible
    assert old in split.folded
    assert split.label in ("Quoted text", "Signature and quoted text")
    assert old in text


def test_a_signature_folds_but_a_message_that_is_all_quote_shows_whole() -> None:
    signed = split_quoted("Thanks!\n\n-- \nGrace Kim\nOperations")
    assert signed.visible == "Thanks!" and "Grace Kim" in signed.folded
    assert signed.label == "Signature"
    both = split_quoted("Thanks!\n-- \nGrace\n\nOn Mon, 1 Dec 2026, Ann wrote:\n> hi")
    assert both.visible == "Thanks!" and both.label == "Signature and quoted text"
    assert split_quoted("> only a quote").visible == "> only a quote"


def test_sanitizer_keeps_ordinary_formatting() -> None:
    assert sanitize_html("<p><b>bold</b> <a href='https://x.test'>x</a></p>").startswith("<p><b>")


def test_plain_message_round_trip() -> None:
    mail = parse(eml())
    assert mail.from_address == "alice@acme.test" and mail.from_name == "Alice"
    assert mail.message_id == "first@acme.test"


def test_recipients_keep_the_names_their_mail_gave_them() -> None:
    mail = parse(
        b"From: alice@acme.test\r\n"
        b"To: =?utf-8?q?Ren=C3=A9e_Roy?= <Renee@Partner.test>, plain@partner.test\r\n"
        b'Cc: "Doe, John" <john@partner.test>, Bidi \xe2\x80\xaeevil <eve@partner.test>\r\n'
        b"Subject: names\r\n\r\nbody\r\n"
    )
    assert mail.recipients == [
        "renee@partner.test", "plain@partner.test", "john@partner.test", "eve@partner.test",
    ]  # fmt: skip
    # Decoded and cleaned of direction overrides; an address without a name has no entry.
    assert mail.recipient_names == {
        "renee@partner.test": "Renée Roy",
        "john@partner.test": "Doe, John",
        "eve@partner.test": "Bidi evil",
    }
