"""Domain errors: every adapter turns these into a clear message (API JSON, form error, CLI)."""

from __future__ import annotations


class DomainError(Exception):
    """A request the rules refuse; nothing was changed."""

    status = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(DomainError):
    status = 422


class NotFound(DomainError):
    status = 404


class Forbidden(DomainError):
    # Used only where the object is already visible to the actor; invisible ones are NotFound.
    status = 403


class Conflict(DomainError):
    status = 409
