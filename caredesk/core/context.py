from __future__ import annotations

from django.http import HttpRequest


def service_model(request: HttpRequest) -> dict[str, object]:
    from caredesk.servicemodel.models import ServiceSettings

    # A page (portal.web.page) has read it already; elsewhere a template reads it if it asks.
    service = getattr(request, "service", None)
    return {"service": ServiceSettings.current if service is None else service}
