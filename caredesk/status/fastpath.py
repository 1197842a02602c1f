"""A WSGI wrapper that answers the public Statuspage JSON before Django's middleware.

The JSON is the page's most polled resource (widgets, monitors, other status pages), it
is public, the same for everyone, and already cached per change; the full middleware
stack (sessions, CSRF, auth, messages, CSP, axes) costs more than the answer itself.
Wrap the application with it in caredesk/wsgi.py:

    application = StatusFastPath(get_wsgi_application())

It answers exactly what views.json_view answers (body, ETag and 304, CORS, caching and
the security headers the middleware would add); everything else passes through.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.core.signals import request_finished, request_started

from caredesk.status import public

PREFIX = "/status/api/v2/"
StartResponse = Callable[..., Any]
HEADERS = [
    ("Access-Control-Allow-Origin", "*"),
    ("Cache-Control", "public, max-age=5"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
]


class StatusFastPath:
    def __init__(self, app: Callable[[dict[str, Any], StartResponse], Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "")
        name = path[len(PREFIX) :] if path.startswith(PREFIX) else ""
        if method not in ("GET", "HEAD") or name not in public.ENDPOINTS:
            return self.app(environ, start_response)
        # Django's handler sends these; its database connection handling hangs on them.
        request_started.send(sender=self.__class__, environ=environ)
        try:
            body, etag = public.endpoint(name)
        finally:
            request_finished.send(sender=self.__class__)
        headers = [("ETag", etag), *HEADERS]
        if etag in environ.get("HTTP_IF_NONE_MATCH", ""):
            start_response("304 Not Modified", headers)
            return [b""]
        headers += [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        start_response("200 OK", headers)
        return [b""] if method == "HEAD" else [body]
