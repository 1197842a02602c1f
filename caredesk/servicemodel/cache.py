"""A per-process copy of the service model for the hot paths (opening cases, clocks).

The model changes rarely (load-model, the admin). Each process keeps what it read for
up to TTL seconds; a save or delete in this process drops it at once, and other
processes see the change within TTL.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.db.models.signals import post_delete, post_save

from caredesk.servicemodel.models import (
    Calendar,
    Category,
    ChannelTarget,
    PriorityLevel,
    ServiceSettings,
    Team,
    TicketType,
)

TTL_SECONDS = 5.0


@dataclass(frozen=True)
class Snapshot:
    settings: ServiceSettings
    types: dict[str, TicketType]
    channels: dict[str, ChannelTarget]
    priorities: dict[str, PriorityLevel]
    calendars: dict[str, Calendar]
    teams: dict[str, Team]


_current: tuple[float, Snapshot] | None = None


def snapshot() -> Snapshot:
    global _current
    if _current is not None and time.monotonic() - _current[0] < TTL_SECONDS:
        return _current[1]
    fresh = Snapshot(
        settings=ServiceSettings.current(),
        types={t.key: t for t in TicketType.objects.all()},
        channels={c.key: c for c in ChannelTarget.objects.all()},
        priorities={p.key: p for p in PriorityLevel.objects.all()},
        calendars={c.key: c for c in Calendar.objects.all()},
        teams={t.key: t for t in Team.objects.all()},
    )
    _current = (time.monotonic(), fresh)
    return fresh


def invalidate(**_: Any) -> None:
    global _current
    _current = None


for _model in (Calendar, Category, ChannelTarget, PriorityLevel, ServiceSettings, Team, TicketType):
    post_save.connect(invalidate, sender=_model, dispatch_uid=f"model-cache-{_model.__name__}")
    post_delete.connect(
        invalidate, sender=_model, dispatch_uid=f"model-cache-del-{_model.__name__}"
    )
