"""Helpers for tests that read, write and wipe service model files."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import tomli_w

from caredesk.servicemodel.models import (
    Calendar,
    Category,
    ChannelTarget,
    PriorityLevel,
    ServiceSettings,
    Team,
    TicketCounter,
    TicketType,
)
from caredesk.status.models import Component, Environment

MODEL_FILE = Path(__file__).resolve().parents[1] / "service-model.toml"
# Every table the model file fills, dependants first (the order deletion needs).
MODEL_TABLES = (
    Component,
    Environment,
    TicketCounter,
    Category,
    TicketType,
    PriorityLevel,
    ChannelTarget,
    ServiceSettings,
    Team,
    Calendar,
)


def guide() -> dict[str, Any]:
    """The guide's model file, parsed."""
    return tomllib.loads(MODEL_FILE.read_text())


def write(tmp_path: Path, data: dict[str, Any], name: str = "model.toml") -> Path:
    path = tmp_path / name
    path.write_text(tomli_w.dumps(data))
    return path


def wipe_model() -> None:
    for table in MODEL_TABLES:
        table.objects.all().delete()
