"""What the phone tests share: a PBX that posts CTI events, as sipgate-style bridges do."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.test import Client

from caredesk.people import services as people
from caredesk.people.models import User


class Pbx:
    """Posts call events to /api/v1/cti/<token> as a form (the convention's default) or JSON."""

    def __init__(self, user: User, scope: str = "intake", *, as_json: bool = False) -> None:
        _, self.token = people.create_token(user, scope=scope)
        self.client = Client()
        self.as_json = as_json

    def post(self, token: str | None = None, **fields: Any) -> Any:
        url = f"/api/v1/cti/{token or self.token}"
        if self.as_json:
            return self.client.post(url, json.dumps(fields), content_type="application/json")
        pairs: list[tuple[str, str]] = []
        for key, value in fields.items():
            name = {"from_": "from", "user": "user[]"}.get(key, key)
            for v in value if isinstance(value, list) else [value]:
                pairs.append((name, v.isoformat() if isinstance(v, datetime) else str(v)))
        return self.client.post(
            url, urlencode(pairs), content_type="application/x-www-form-urlencoded"
        )

    def send(self, event: str, call_id: str, **fields: Any) -> dict[str, Any]:
        resp = self.post(event=event, callId=call_id, **fields)
        assert resp.status_code == 200, resp.content
        return resp.json()  # type: ignore[no-any-return]
