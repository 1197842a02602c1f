"""django-csp's middleware, with the policy of a plain response built once per process.

Our views neither change the policy (`csp_update`, `csp_replace`, `csp_exempt`) nor use
nonces, so every response carries the same header; django-csp builds it anew twice per
response (the policy and the report-only one), about 5% of what an API request costs. A
request or response that does use one of those falls back to django-csp's own code.
"""

from __future__ import annotations

import functools
from typing import Any

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as _CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.http import HttpRequest
from django.http.response import HttpResponseBase

# What django-csp's decorators set on a response.
_PER_RESPONSE = tuple(
    f"_csp_{what}{ro}" for what in ("config", "update", "replace", "exempt") for ro in ("", "_ro")
)
_SETTINGS = ("CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY")


@functools.cache
def _headers() -> tuple[str, str] | None:
    """The policy and report-only headers (empty when not configured), or None when the
    settings exclude URL prefixes (then every response goes through django-csp)."""
    for name in _SETTINGS:
        if (getattr(settings, name, None) or {}).get("EXCLUDE_URL_PREFIXES"):
            return None
    return build_policy(), build_policy(report_only=True)


def _forget(*, setting: str, **_: Any) -> None:
    if setting in _SETTINGS:
        _headers.cache_clear()


setting_changed.connect(_forget, dispatch_uid="caredesk-csp-headers")


class CSPMiddleware(_CSPMiddleware):
    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        headers = _headers()
        if (
            headers is None
            or settings.DEBUG
            or getattr(request, "_csp_nonce", None) is not None
            or any(hasattr(response, name) for name in _PER_RESPONSE)
        ):
            return super().process_response(request, response)
        policy, report_only = headers
        if policy and HEADER not in response:
            response[HEADER] = policy
        if report_only and HEADER_REPORT_ONLY not in response:
            response[HEADER_REPORT_ONLY] = report_only
        # As django-csp does: a nonce asked for after the header is written is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)  # type: ignore[attr-defined]
        return response
