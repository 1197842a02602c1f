"""Triage: which escalation path an inquiry's words suggest, and why. Pure functions."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Suggestion:
    to: str | None  # a ticket type key, or None when Customer Care can likely complete it
    category: str | None
    reason: str
    keywords: tuple[str, ...]


def _matches(text: str, keywords: Sequence[str]) -> list[str]:
    # Whole words, so "add" does not match "address"; a plain ending is allowed, so "crash"
    # still matches "crashed" and "error" matches "errors". Blank keywords match nothing.
    return [
        k
        for k in keywords
        if k.strip() and re.search(rf"(?<!\w){re.escape(k.lower())}(?:s|es|d|ed|ing)?(?!\w)", text)
    ]


def suggest(
    text: str,
    *,
    paths: Mapping[str, Sequence[str]],
    categories: Mapping[str, tuple[str, Sequence[str]]],
) -> Suggestion:
    """Suggest an escalation path for `text`.

    `paths` maps each escalation ticket type to its triage keywords; `categories` maps a
    category key to (its ticket type, its keywords). The path with most keyword hits wins;
    ties go to the path listed first (the model lists Technical Support first: something
    broken outranks a change).
    """
    lowered = text.lower()
    best: tuple[str, list[str]] | None = None
    for path, keywords in paths.items():
        hits = _matches(lowered, keywords)
        if hits and (best is None or len(hits) > len(best[1])):
            best = (path, hits)
    if best is None:
        return Suggestion(
            None, None, "No escalation keywords; Customer Care can likely complete it.", ()
        )
    path, hits = best
    category = None
    top = 0
    for key, (ticket_type, keywords) in categories.items():
        found = len(_matches(lowered, keywords)) if ticket_type == path else 0
        if found > top:
            category, top = key, found
    quoted = ", ".join(f'"{h}"' for h in hits)
    return Suggestion(path, category, f"The inquiry mentions {quoted}.", tuple(hits))
