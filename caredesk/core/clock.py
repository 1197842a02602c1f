"""The one place code reads the time, so tests move it with time-machine."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    return timezone.now()
