"""REST API v1: /api/v1/…, documented at /api/v1/openapi.json and /api/v1/docs."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from caredesk.api.auth import TokenAuth
from caredesk.api.tickets import router as tickets_router
from caredesk.core.errors import DomainError

api = NinjaAPI(
    title="caredesk API",
    version="1",
    description=(
        "Cases, escalations and work orders of the Unified Service Model. "
        "Authenticate with `Authorization: Bearer <token>` (`caredesk token create EMAIL`). "
        'Lists answer `{"items": [...], "next": cursor}`; errors answer '
        '`{"message": ..., "field": ...}`.'
    ),
    auth=TokenAuth(),
    urls_namespace="api",
    docs_url="/docs",
)
api.add_router("", tickets_router)
api.add_router("/status", "caredesk.status.api.router")
api.add_router("/sla", "caredesk.sla.api.router")
api.add_router("/reports", "caredesk.reports.api.router")
api.add_router("", "caredesk.mail.api.router")
api.add_router("", "caredesk.phone.api.router")
api.add_router("/webhooks", "caredesk.api.webhooks.router")


@api.exception_handler(DomainError)
def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return api.create_response(
        request, {"message": exc.message, "field": exc.field}, status=exc.status
    )


SOURCES = ("body", "query", "path", "header", "cookie", "form", "file")
WRAPPERS = ("payload", "filters", "query")


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    first = exc.errors[0] if exc.errors else {}
    # ninja's loc is (source, parameter, field...): ("body", "payload", "subject") names the
    # field "subject"; a field may itself be called "body", so strip by position, not name.
    loc = [str(part) for part in first.get("loc", ())]
    if loc and loc[0] in SOURCES:
        loc = loc[1:]
    if loc and loc[0] in WRAPPERS:
        loc = loc[1:]
    field = ".".join(loc) or None
    message = first.get("msg", "Invalid request.")
    if field:
        message = f"{field}: {message}"
    return api.create_response(
        request, {"message": message, "field": field, "errors": exc.errors}, status=422
    )


@api.exception_handler(AuthenticationError)
def auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(
        request,
        {"message": "Send a valid token: Authorization: Bearer <token>.", "field": None},
        status=401,
    )


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return api.create_response(
        request, {"message": str(exc), "field": None}, status=exc.status_code
    )
