"""The WSGI fast path answers the public JSON exactly as the Django view does."""

from __future__ import annotations

from collections.abc import Iterator
from io import BytesIO
from typing import Any

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client

from caredesk.status import public
from caredesk.status.fastpath import StatusFastPath


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    public.forget()
    yield
    public.forget()


def call(path: str, method: str = "GET", **headers: str) -> tuple[str, dict[str, str], bytes]:
    seen: dict[str, Any] = {}

    def inner(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("299 Passed", [])
        return [b"django"]

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        seen["status"], seen["headers"] = status, dict(headers)

    environ = {
        "PATH_INFO": path,
        "REQUEST_METHOD": method,
        "wsgi.input": BytesIO(),
        **{f"HTTP_{k.upper()}": v for k, v in headers.items()},
    }
    # As Django's test client does: the test's transaction keeps its connection open.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        body = b"".join(StatusFastPath(inner)(environ, start_response))
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return seen["status"], seen["headers"], body


def test_the_fast_path_matches_the_view(model: None) -> None:
    for name in public.ENDPOINTS:
        view = Client().get(f"/status/api/v2/{name}")
        status, headers, body = call(f"/status/api/v2/{name}")
        assert status == "200 OK" and body == view.content
        assert headers["ETag"] == view["ETag"]
        assert headers["Content-Type"] == "application/json"
        assert headers["Access-Control-Allow-Origin"] == "*"
    etag = call("/status/api/v2/summary.json")[1]["ETag"]
    status, _, body = call("/status/api/v2/summary.json", if_none_match=etag)
    assert status == "304 Not Modified" and body == b""


def test_everything_else_passes_through(model: None) -> None:
    assert call("/status/")[0] == "299 Passed"
    assert call("/status/api/v2/nope.json")[0] == "299 Passed"
    assert call("/status/api/v2/summary.json", method="POST")[0] == "299 Passed"
