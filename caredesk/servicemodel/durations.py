"""Durations as the model file writes them: "30s", "10m", "1h", "1h30m"."""

from __future__ import annotations

import re
from datetime import timedelta

_PART = re.compile(r"(\d+)([dhms])")
_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(text: str) -> timedelta:
    text = text.strip().lower()
    if not text or _PART.sub("", text) != "":
        raise ValueError(f'"{text}" is not a duration; write it like "30s", "10m", "1h" or "1h30m"')
    seconds = sum(int(n) * _UNITS[unit] for n, unit in _PART.findall(text))
    if seconds <= 0:
        raise ValueError("a duration must be longer than zero")
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    parts = []
    for unit, size in _UNITS.items():
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts) or "0s"
