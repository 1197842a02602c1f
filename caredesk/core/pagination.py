"""Keyset pagination: pages walk an indexed id, so page 1,000 costs what page 1 costs."""

from __future__ import annotations

import base64
from typing import TypeVar

from django.db.models import Model, QuerySet

from caredesk.core.errors import InvalidInput

M = TypeVar("M", bound=Model)
DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, value = text.partition(":")
        number = int(value)
        # Ids fit a signed 64-bit column; anything else was not given out by us.
        if kind != "id" or not 0 <= number < 2**63:
            raise ValueError
        return number
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("The cursor is not one this API gave out.", field="cursor") from None


def keyset_page(
    queryset: QuerySet[M], *, limit: int | None, cursor: str | None, newest_first: bool = True
) -> tuple[list[M], str | None]:
    """One page of `queryset` ordered by id, and the cursor of the next page (or None)."""
    limit = DEFAULT_LIMIT if limit is None else limit
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}.", field="limit")
    if cursor:
        after = decode_cursor(cursor)
        queryset = queryset.filter(id__lt=after) if newest_first else queryset.filter(id__gt=after)
    rows = list(queryset.order_by("-id" if newest_first else "id")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode_cursor(rows[-1].pk) if more and rows else None
