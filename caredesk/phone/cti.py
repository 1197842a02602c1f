"""The generic CTI convention (sipgate's, as Zammad adopted it), read into plain values.

Pure functions: a request's fields in, a CtiEvent out or InvalidInput naming the field.
PBX bridges send form bodies (`user[]=…` repeated) or JSON; Asterisk and FreeSWITCH
bridges often pass their raw hangup causes (Q.850 names or codes), mapped here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import phonenumbers

from caredesk.core.errors import InvalidInput

EVENTS = ("newCall", "answer", "hangup")
DIRECTIONS = ("in", "out")
CAUSES = (
    "normalClearing",
    "busy",
    "cancel",
    "noAnswer",
    "congestion",
    "notFound",
    "forwarded",
    "rejected",
    "failed",
)
# Raw PBX causes: Q.850 names as Asterisk and FreeSWITCH spell them, and their codes.
RAW_CAUSES = {
    "NORMAL_CLEARING": "normalClearing",
    "NORMAL_UNSPECIFIED": "normalClearing",
    "USER_BUSY": "busy",
    "NO_ANSWER": "noAnswer",
    "NO_USER_RESPONSE": "noAnswer",
    "ALLOTTED_TIMEOUT": "noAnswer",
    "ORIGINATOR_CANCEL": "cancel",
    "LOSE_RACE": "cancel",
    "CALL_REJECTED": "rejected",
    "NORMAL_CIRCUIT_CONGESTION": "congestion",
    "SWITCH_CONGESTION": "congestion",
    "CONGESTION": "congestion",
    "UNALLOCATED_NUMBER": "notFound",
    "NO_ROUTE_DESTINATION": "notFound",
    "NUMBER_CHANGED": "notFound",
    "INVALID_NUMBER_FORMAT": "notFound",
    "SUBSCRIBER_ABSENT": "notFound",
    "DEFLECTION": "forwarded",
    "ATTENDED_TRANSFER": "forwarded",
    "BLIND_TRANSFER": "forwarded",
    "REDIRECTION_TO_NEW_DESTINATION": "forwarded",
    "ANSWER": "normalClearing",  # Asterisk's DIALSTATUS after a normal end
    "BUSY": "busy",
    "CANCEL": "cancel",
    "NOANSWER": "noAnswer",
    "CHANUNAVAIL": "failed",
    "16": "normalClearing",
    "17": "busy",
    "18": "noAnswer",
    "19": "noAnswer",
    "21": "rejected",
    "1": "notFound",
    "3": "notFound",
    "34": "congestion",
    "42": "congestion",
}
# Any other Q.850-style name is a failure of the network or the far end.
RAW_CAUSE_NAME = re.compile(r"^[A-Z][A-Z0-9_]{2,40}$")
WITHHELD = frozenset({"", "anonymous", "unknown", "restricted", "private", "withheld"})
NUMBER_CHARS = re.compile(r"^\+?[0-9*#]{1,30}$")
MAX_FIELD = 100
MAX_USERS = 20
SHORT_ABANDON_SECONDS = 5


@dataclass(frozen=True)
class CtiEvent:
    event: str
    call_id: str
    direction: str = ""
    from_number: str = ""
    to_number: str = ""
    users: list[str] = field(default_factory=list)
    queue: str = ""
    answering_number: str = ""
    cause: str = ""
    raw_cause: str = ""
    timestamp: datetime | None = None
    orig_call_id: str = ""

    def as_data(self) -> dict[str, object]:
        """What is stored with the event (JSON-safe)."""
        data: dict[str, object] = {
            "direction": self.direction,
            "from": self.from_number,
            "to": self.to_number,
            "user": self.users,
            "queue": self.queue,
            "answeringNumber": self.answering_number,
            "cause": self.cause,
            "rawCause": self.raw_cause,
            "timestamp": self.timestamp.isoformat() if self.timestamp else None,
            "origCallId": self.orig_call_id,
        }
        return {k: v for k, v in data.items() if v}


def _one(fields: Mapping[str, list[str]], name: str) -> str:
    values = fields.get(name) or []
    value = values[-1] if values else ""
    if len(value) > MAX_FIELD:
        raise InvalidInput(f"{name} is longer than {MAX_FIELD} characters.", field=name)
    if any(ord(ch) < 32 for ch in value):
        raise InvalidInput(f"{name} contains control characters.", field=name)
    return value.strip()


def clean_number(value: str, name: str) -> str:
    """A number as the PBX sent it, without punctuation, a SIP scheme or host; "" when
    withheld; InvalidInput when it is not a number at all."""
    text = value.strip()
    if text.lower() in WITHHELD:
        return ""
    text = re.sub(r"^(sips?|tel):", "", text, flags=re.IGNORECASE).split("@", 1)[0]
    text = re.sub(r"[\s().\-/]", "", text)
    if not NUMBER_CHARS.match(text):
        raise InvalidInput(f"{name} {value!r} is not a phone number.", field=name)
    return text


def to_e164(number: str, region: str = "US") -> str:
    """The E.164 form of a public number; "" for extensions and impossible numbers."""
    if not number or "*" in number or "#" in number:
        return ""
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_possible_number(parsed):
        return ""
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def map_cause(value: str) -> str:
    """The convention's cause for a CTI or raw PBX cause; InvalidInput for anything else."""
    if not value:
        return ""
    if value in CAUSES:
        return value
    raw = value.strip().upper()
    if raw in RAW_CAUSES:
        return RAW_CAUSES[raw]
    if RAW_CAUSE_NAME.match(raw):
        return "failed"
    raise InvalidInput(f"Unknown cause {value!r}; use one of {', '.join(CAUSES)}.", field="cause")


def parse_timestamp(value: str) -> datetime | None:
    """ISO 8601 (UTC when no zone is given) or Unix seconds."""
    if not value:
        return None
    try:
        if re.fullmatch(r"\d{9,11}(\.\d+)?", value):
            return datetime.fromtimestamp(float(value), tz=UTC)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        raise InvalidInput(
            f"timestamp {value!r} is neither ISO 8601 nor Unix seconds.", field="timestamp"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse(fields: Mapping[str, list[str]]) -> CtiEvent:
    """One event from a request's fields (every value a list of strings)."""
    event = _one(fields, "event")
    if not event:
        raise InvalidInput("event is missing; send newCall, answer or hangup.", field="event")
    if event not in EVENTS:
        raise InvalidInput(
            f"Unknown event {event!r}; send newCall, answer or hangup.", field="event"
        )
    call_id = _one(fields, "callId")
    if not call_id:
        raise InvalidInput("callId is missing.", field="callId")
    direction = _one(fields, "direction")
    if direction and direction not in DIRECTIONS:
        raise InvalidInput(f"direction {direction!r} is neither in nor out.", field="direction")
    if event == "newCall" and not direction:
        raise InvalidInput("direction is missing (in or out).", field="direction")
    users = [u.strip() for u in (fields.get("user[]") or fields.get("user") or []) if u.strip()]
    if len(users) > MAX_USERS or any(len(u) > MAX_FIELD for u in users):
        raise InvalidInput(f"user[] holds at most {MAX_USERS} short names.", field="user")
    cause_text = _one(fields, "cause")
    if event == "hangup" and not cause_text:
        raise InvalidInput("cause is missing from the hangup.", field="cause")
    return CtiEvent(
        event=event,
        call_id=call_id,
        direction=direction,
        from_number=clean_number(_one(fields, "from"), "from"),
        to_number=clean_number(_one(fields, "to"), "to"),
        users=users,
        queue=_one(fields, "queue"),
        answering_number=clean_number(_one(fields, "answeringNumber"), "answeringNumber"),
        cause=map_cause(cause_text),
        raw_cause=cause_text if cause_text not in CAUSES else "",
        timestamp=parse_timestamp(_one(fields, "timestamp")),
        orig_call_id=_one(fields, "origCallId"),
    )


def outcome_for(*, answered: bool, cause: str, wait_seconds: float) -> str:
    """A finished call's outcome (DESIGN's call outcomes)."""
    if answered:
        return "answered"
    if cause == "busy":
        return "busy"
    if cause == "rejected":
        return "rejected"
    if cause in ("congestion", "notFound", "failed"):
        return "failed"
    # The caller hung up, or nobody picked up, before an answer.
    return "short_abandoned" if wait_seconds < SHORT_ABANDON_SECONDS else "abandoned"
