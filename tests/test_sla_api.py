"""GET /api/v1/sla/due answers when a clock would be due, and why."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("params", "due", "words"),
    [
        (
            {"target": "first_response", "channel": "email", "at": "2026-11-28T22:05:00-05:00"},
            "2026-11-29T12:10:00Z",
            [
                "received Saturday 22:05 ET",
                "outside email-monitoring hours",
                "the clock starts Sunday 07:00",
                "due 07:10",
            ],
        ),
        (
            {"target": "first_response", "channel": "phone", "at": "2026-11-28T23:00:00-05:00"},
            "2026-11-29T04:00:30Z",
            ["30 s", "around the clock"],
        ),
        (
            {"target": "escalation", "priority": "high", "at": "2026-12-01T10:00:00-05:00"},
            "2026-12-01T16:00:00Z",
            ["1 h"],
        ),
        (
            {"target": "escalation", "priority": "critical", "at": "2026-12-01T02:00:00-05:00"},
            "2026-12-01T09:00:00Z",
            ["emergency staffing", "2 h"],
        ),
    ],
)
def test_due_answers_with_its_reason(api, alice, params, due, words) -> None:  # type: ignore[no-untyped-def]
    body = api(alice).get("/api/v1/sla/due", params).json()
    assert body["due_at"] == due, body
    for word in words:
        assert word in body["explanation"], body["explanation"]


@pytest.mark.parametrize(
    "params",
    [
        {"target": "resolution"},
        {"target": "first_response", "channel": "fax"},
        {"target": "escalation", "priority": "urgent"},
        {"target": "first_response", "at": "yesterday"},
        {"target": "first_response", "at": "2026-11-28T22:05:00"},
    ],
)
def test_bad_questions_get_a_clear_422(api, alice, params) -> None:  # type: ignore[no-untyped-def]
    response = api(alice).get("/api/v1/sla/due", params)
    assert response.status_code == 422
    assert response.json()["message"]
