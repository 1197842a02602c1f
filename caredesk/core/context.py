from __future__ import annotations

from django.http import HttpRequest


def service_model(request: HttpRequest) -> dict[str, object]:
    from caredesk.servicemodel.models import ServiceSettings

    return {"service": ServiceSettings.current}
