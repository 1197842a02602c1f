"""Reports in the REST API: SLA compliance as JSON and as a spreadsheet-safe CSV."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema
from pydantic import field_validator

from caredesk.api.schemas import ErrorOut
from caredesk.core.errors import NotFound
from caredesk.people.models import User
from caredesk.reports.services import Report, report_csv, sla_compliance

router = Router(tags=["reports"])
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class ReportQuery(Schema):
    first: date | None = Field(None, alias="from", description="First day, in the model's zone")
    last: date | None = Field(None, alias="to", description="Last day (inclusive)")
    group: Literal["channel", "priority", "team", "day", "week"] = "channel"

    @field_validator("first", "last", mode="before")
    @classmethod
    def _iso_day(cls, value: object) -> object:
        # A day is written YYYY-MM-DD; pydantic alone would also take "0" as 1970-01-01.
        if isinstance(value, str) and not ISO_DAY.fullmatch(value):
            raise ValueError("write the day as YYYY-MM-DD")
        return value


class RowOut(Schema):
    group: str
    label: str
    target: str
    emergency: bool
    met: int
    breached: int
    running_overdue: int
    running: int
    total: int
    percent_met: float | None
    answered: int
    median_seconds: float | None
    p90_seconds: float | None


class ReportOut(Schema):
    first: date = Field(..., alias="from")
    last: date = Field(..., alias="to")
    group: str
    time_zone: str
    at: datetime
    percentiles: bool
    rows: list[RowOut]
    totals: list[RowOut]


def _report(request: HttpRequest, query: ReportQuery) -> Report:
    # Every agent may read reports (managers answer for them); customers never see them.
    user = request.user
    if not isinstance(user, User) or not user.is_agent:
        raise NotFound("No such report.")
    return sla_compliance(first=query.first, last=query.last, group=query.group)


@router.get(
    "/sla",
    response={200: ReportOut, 401: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    by_alias=True,
    summary="SLA compliance",
)
def sla(request: HttpRequest, query: Query[ReportQuery]) -> dict[str, object]:
    """Met, breached, running-overdue and running clocks started from `from` to `to`
    (whole days in the service model's time zone), by `group`, target and staffing, with
    median and 90th-percentile times of the answered ones. Escalations begun during
    emergency staffing are rows of their own (`emergency: true`)."""
    return _report(request, query).as_dict()


@router.get(
    "/sla.csv", response={200: None, 401: ErrorOut, 404: ErrorOut, 422: ErrorOut}, summary="SLA CSV"
)
def sla_csv(request: HttpRequest, query: Query[ReportQuery]) -> HttpResponse:
    """The same report as CSV; cells that a spreadsheet would run as formulas are quoted."""
    report = _report(request, query)
    response = HttpResponse(report_csv(report), content_type="text/csv; charset=utf-8")
    name = f"sla-{report.group}-{report.first_day}-{report.last_day}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
