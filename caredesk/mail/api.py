"""Email intake over HTTP: POST /api/v1/inbound/email."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["email"])
