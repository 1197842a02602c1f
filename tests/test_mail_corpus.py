"""Every message of our fixture corpus, and of the public corpora when present, is taken in
(a case, a reply, a kept bounce or auto-reply) or quarantined with a reason; none raises."""

from __future__ import annotations

import os
import random
from collections import Counter
from pathlib import Path

import pytest
from mail_helpers import CORPUS

from caredesk.mail.intake import ingest
from caredesk.mail.models import InboundEmail
from caredesk.tickets.models import Ticket

pytestmark = pytest.mark.django_db


def _shared_corpora() -> Path:
    """The public corpora: $CAREDESK_MAIL_CORPORA, or shared/corpora beside the checkout (as
    CI lays it out), or the workplace's copy. They are read in place, never copied here."""
    here = Path(__file__).resolve().parents[1]
    for candidate in (
        os.environ.get("CAREDESK_MAIL_CORPORA", ""),
        here.parent / "shared" / "corpora",
        "/work/shared/corpora",
    ):
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return Path("/nonexistent")


SHARED = _shared_corpora()


def _run(paths: list[Path]) -> Counter[str]:
    seen: Counter[str] = Counter()
    for path in paths:
        result = ingest(path.read_bytes(), source="api")
        assert result.status in ("stored", "duplicate", "quarantined", "ignored"), path
        if result.status == "quarantined":
            assert result.reason and result.reason != "Not processed yet.", path
        if result.status == "stored":
            assert result.ticket, path
        seen[result.status] += 1
    return seen


def test_our_corpus_has_the_shapes_real_mail_takes() -> None:
    assert len(list(CORPUS.glob("*.eml"))) >= 60


def test_every_message_of_our_corpus_is_taken_in_or_quarantined_with_a_reason(alice) -> None:
    paths = sorted(CORPUS.glob("*.eml"))
    seen = _run(paths)

    assert sum(seen.values()) == len(paths)
    assert InboundEmail.objects.count() == len(paths) - seen["duplicate"]


@pytest.mark.skipif(
    not SHARED.exists(), reason="no public mail corpora (set CAREDESK_MAIL_CORPORA)"
)
@pytest.mark.parametrize("name", ["ruby-mail", "flanker"])
def test_public_corpora_never_raise(model, name: str) -> None:
    paths = sorted(p for p in (SHARED / name).rglob("*") if p.is_file() and p.name != "LICENSE")
    seen = _run(paths)
    print(name, dict(seen))
    assert sum(seen.values()) == len(paths)


@pytest.mark.skipif(
    not SHARED.exists(), reason="no public mail corpora (set CAREDESK_MAIL_CORPORA)"
)
def test_real_bounces_from_a_hundred_mail_servers_open_no_case(model) -> None:
    paths = sorted((SHARED / "sisimai-bounces").glob("*.eml"))
    seen = _run(paths)
    kinds = Counter(InboundEmail.objects.values_list("kind", flat=True))
    print(dict(seen), dict(kinds))
    opened = Ticket.objects.count()
    assert opened <= len(paths) * 0.05, f"{opened} of {len(paths)} bounces opened a case"


def test_mangled_copies_of_the_corpus_are_taken_in_or_quarantined(alice) -> None:
    # Truncated deliveries, flipped bytes and lost line ends, as broken relays produce them.
    chance = random.Random(8)
    paths = sorted(CORPUS.glob("*.eml"))
    mangled = []
    for path in paths:
        raw = bytearray(path.read_bytes())
        cut = bytes(raw[: chance.randrange(1, len(raw) + 1)])
        for _ in range(8):
            raw[chance.randrange(len(raw))] = chance.randrange(256)
        mangled += [cut, bytes(raw), bytes(raw).replace(b"\r\n", b"\r")]

    seen: Counter[str] = Counter()
    for raw in mangled:
        result = ingest(raw, source="api")
        assert result.status in ("stored", "duplicate", "quarantined", "ignored")
        assert result.reason
        seen[result.status] += 1

    assert sum(seen.values()) == len(mangled)
