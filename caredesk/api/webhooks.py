"""Outgoing webhooks: managers and admins subscribe URLs to ticket and incident events."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["webhooks"])
