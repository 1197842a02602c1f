"""Bearer-token authentication, narrowed by the token's scope."""

from __future__ import annotations

from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import HttpBearer

from caredesk.core.errors import NotFound
from caredesk.people.models import ApiToken, TokenScope, User
from caredesk.people.services import token_user

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class TokenAuth(HttpBearer):
    """Accepts a live token whose scope covers the request.

    `area` is what the routes guard: "tickets" (read for safe methods, write otherwise),
    "intake" (mail and call events) or "status" (status page management).
    """

    def __init__(self, area: str = "tickets") -> None:
        super().__init__()
        self.area = area

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        found = token_user(token)
        if found is None:
            return None
        if not self.allows(found.scope, request.method or "GET"):
            raise HttpError(403, f"This token's scope ({found.scope}) does not allow this request.")
        request.user = found.user
        return found

    def allows(self, scope: str, method: str) -> bool:
        if scope == TokenScope.ALL:
            return True
        if self.area == "tickets":
            return scope == TokenScope.WRITE or (
                scope == TokenScope.READ and method in SAFE_METHODS
            )
        if self.area == "intake":
            return scope == TokenScope.INTAKE
        if self.area == "status":
            return scope in (TokenScope.STATUS, TokenScope.WRITE) or (
                scope == TokenScope.READ and method in SAFE_METHODS
            )
        return False


def agent_of(request: HttpRequest) -> User:
    """The signed-in agent, for agents' business (calls, who is copied): anyone else's
    token finds nothing there (404, never 403)."""
    user = request.user
    if not isinstance(user, User) or not user.is_agent:
        raise NotFound("No such resource.")
    return user
