"""Call events in the generic CTI convention (POST /api/v1/cti/<token>) and GET /api/v1/calls."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["phone"])
