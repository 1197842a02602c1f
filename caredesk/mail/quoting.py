"""Quoted history and signatures in mail bodies, folded away for display only.

The full text stays on the ticket; pages show what the customer wrote this time and keep
the quoted part behind a disclosure. Pure functions, no database.
"""

from __future__ import annotations

import re
from typing import NamedTuple

# Attribution lines that clients put above quoted history, in the languages we see most.
ATTRIBUTION = re.compile(
    r"^\s*("
    r"on\b.{3,200}\bwrote:|"  # English (Gmail, Apple Mail, Thunderbird)
    r"am\b.{3,200}\bschrieb\b.{0,200}:|"  # German
    r"le\b.{3,200}\ba [ée]crit\s?:|"  # French
    r"el\b.{3,200}\bescribi[óo]:|"  # Spanish
    r"em\b.{3,200}\bescreveu:|"  # Portuguese
    r"op\b.{3,200}\bschreef\b.{0,200}:|"  # Dutch
    r"il giorno\b.{3,200}\bha scritto:|"  # Italian
    r"\d{4}年\d{1,2}月\d{1,2}日.{0,200}[:\uff1a]|"  # Japanese and Chinese clients
    r"-{3,}\s*(original message|ursprüngliche nachricht|message d'origine|mensaje original|"
    r"oorspronkelijk bericht|messaggio originale|mensagem original)\s*-{3,}|"
    r"_{20,}"  # Outlook's rule above the header block
    r")\s*$",
    re.I,
)
# "From: ..." opens quoted history only when a header block follows (Outlook without a rule).
HEADER_BLOCK = re.compile(r"^\s*(from|von|de|van|da)\s*:", re.I)
HEADER_NEXT = re.compile(
    r"^\s*(sent|date|gesendet|datum|envoy[ée]|enviado|verzonden|to|an|à|para|aan)\s*:", re.I
)
SIGNATURE = "-- "


class Split(NamedTuple):
    visible: str  # what the sender wrote this time
    folded: str  # their signature and the quoted history, "" when there is neither
    label: str  # what the disclosure says it hides


def split_quoted(text: str) -> Split:
    """What is new, and what to fold: the signature and the quoted history."""
    lines = text.split("\n")
    cut = _quote_start(lines)
    visible = "\n".join(lines[:cut]).rstrip()
    signature = _signature_start(lines[:cut])
    if signature is not None:
        visible = "\n".join(lines[:signature]).rstrip()
    if not visible.strip():
        return Split(text, "", "")
    quoted = cut < len(lines)
    label = {
        (True, True): "Signature and quoted text",
        (True, False): "Signature",
        (False, True): "Quoted text",
    }.get((signature is not None, quoted), "")
    return Split(visible, text[len(visible) :].strip("\n"), label)


def _quote_start(lines: list[str]) -> int:
    for i, line in enumerate(lines):
        joined = f"{line} {lines[i + 1]}" if i + 1 < len(lines) else line
        if ATTRIBUTION.match(line) or (
            line.strip().lower().startswith("on ") and ATTRIBUTION.match(joined)
        ):
            return i
        if HEADER_BLOCK.match(line) and any(HEADER_NEXT.match(n) for n in lines[i + 1 : i + 4]):
            return i
        if line.startswith(">") and all(
            not rest.strip() or rest.startswith(">") for rest in lines[i:]
        ):
            return i
    return len(lines)


def _signature_start(lines: list[str]) -> int | None:
    for i in range(len(lines) - 1, max(-1, len(lines) - 15), -1):
        if lines[i] == SIGNATURE or lines[i].rstrip() == "--":
            return i
    return None
