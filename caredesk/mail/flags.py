"""Why intake flagged a message, in words for the ticket timeline and the intake log."""

from __future__ import annotations

from typing import Any


def describe(flags: dict[str, Any]) -> str:
    reasons = []
    if number := flags.get("refused_subject_tag"):
        reasons.append(f"the subject named {number}, but the sender does not belong to it")
    if flags.get("dmarc") == "fail":
        target = flags.get("not_threaded")
        reasons.append(
            "the sender failed DMARC at our mail server"
            + (f", so it was not added to {target}" if target else "")
        )
    if number := flags.get("closed_ticket"):
        reasons.append(f"it answered {number}, which is closed")
    return "; ".join(reasons)
