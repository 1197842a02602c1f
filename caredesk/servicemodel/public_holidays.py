"""A country's public holidays, from the `holidays` package, as "YYYY-MM-DD" dates.

A calendar with a `holiday_country` (and optionally a `holiday_subdivision`) is closed on
those dates, like on the dates it lists itself; its exceptions still win.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import holidays

# Public holidays are resolved for this many years before and after the current one.
YEARS_BEFORE = 1
YEARS_AFTER = 2


def years_around(today: date | None = None) -> tuple[int, ...]:
    """The years whose public holidays a calendar needs: this year - 1 … + 2."""
    year = (today or date.today()).year
    return tuple(range(year - YEARS_BEFORE, year + YEARS_AFTER + 1))


def public_holidays_problem(country: str, subdivision: str = "") -> tuple[str, str] | None:
    """None when the package knows the country (and subdivision); else (field, problem)."""
    supported = holidays.list_supported_countries()
    if country not in supported:
        return (
            "country",
            f"{country!r} is not a country the holidays package knows; use an ISO 3166 code "
            'in capitals, for example "US", "GB" or "DE"',
        )
    if subdivision and subdivision not in supported[country]:
        known = supported[country]
        examples = ", ".join(known[:8]) + (" …" if len(known) > 8 else "")
        return (
            "subdivision",
            f"{subdivision!r} is not a subdivision of {country}"
            + (f" (known: {examples})" if known else f"; {country} has none"),
        )
    return None


@lru_cache(maxsize=64)
def public_holiday_dates(country: str, subdivision: str, years: tuple[int, ...]) -> tuple[str, ...]:
    """The public holidays (observed days too) of these years, sorted; ValueError if unknown."""
    problem = public_holidays_problem(country, subdivision)
    if problem is not None:
        raise ValueError(problem[1])
    found = holidays.country_holidays(country, subdiv=subdivision or None, years=years)
    return tuple(sorted(day.isoformat() for day in found))
