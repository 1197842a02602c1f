"""The desk's SLA report page: charts drawn as inline SVG on the server, no script needed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from caredesk.core.errors import DomainError
from caredesk.portal.web import Form, page
from caredesk.reports.services import GROUPS, Report, distribution, report_csv, sla_compliance
from caredesk.servicemodel.choices import SlaTarget

TARGET_NAMES = dict(SlaTarget.choices)
# The label column fits "Project Coordination · Escalation (emergency staffing)" whole.
BAR_HEIGHT, BAR_GAP, LABEL_WIDTH, BAR_SPACE = 22, 8, 420, 300
HIST_WIDTH, HIST_HEIGHT, HIST_TOP = 560, 180, 20
DATE = forms.DateInput({"type": "date"})


class ReportForm(Form):
    group = forms.ChoiceField(
        label="Table by", choices=[(g, g.title()) for g in GROUPS], required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # "from" and "to", as in the API, are Python keywords: no class attributes for them.
        self.fields = {
            "from": forms.DateField(label="From", required=False, widget=DATE),
            "to": forms.DateField(label="To", required=False, widget=DATE),
            **self.fields,
        }


@dataclass(frozen=True)
class Bar:
    label: str
    y: int
    width: int  # of the bar, in SVG units (0 when nothing was decided yet)
    text: str
    bad: bool  # under the target share

    @property
    def text_y(self) -> int:
        return self.y + BAR_HEIGHT // 2 + 5

    @property
    def value_x(self) -> int:
        return LABEL_WIDTH + self.width + 6


@dataclass(frozen=True)
class Column:
    label: str
    count: int
    x: int
    y: int
    width: int
    height: int

    @property
    def middle(self) -> int:
        return self.x + self.width // 2

    @property
    def count_y(self) -> int:
        return self.y - 4


def bars(report: Report) -> tuple[list[Bar], int]:
    """Horizontal bars of percent met, one per group, target and staffing; and the height."""
    found = []
    for i, row in enumerate(report.rows):
        name = f"{row.label} · {TARGET_NAMES.get(row.target, row.target)}"
        if row.emergency:
            name += " (emergency staffing)"
        percent = row.percent_met
        text = "no answers yet" if percent is None else f"{percent:g}% of {row.total - row.running}"
        width = 0 if percent is None else round(BAR_SPACE * percent / 100)
        found.append(Bar(name, i * (BAR_HEIGHT + BAR_GAP), width, text, (percent or 0) < 90))
    return found, max(1, len(found)) * (BAR_HEIGHT + BAR_GAP)


def histogram(counts: list[tuple[str, int]]) -> list[Column]:
    """Vertical columns of how many first responses took how long."""
    most = max((n for _, n in counts), default=0) or 1
    step = HIST_WIDTH // max(1, len(counts))
    columns = []
    for i, (label, count) in enumerate(counts):
        height = round(HIST_HEIGHT * count / most)
        columns.append(
            Column(label, count, i * step + 4, HIST_TOP + HIST_HEIGHT - height, step - 8, height)
        )
    return columns


def chart_geometry() -> dict[str, int]:
    """The fixed sizes the chart templates (_bars.html, _histogram.html) draw with."""
    return {
        "label_width": LABEL_WIDTH,
        "bar_space": BAR_SPACE,
        "width": LABEL_WIDTH + BAR_SPACE + 140,
        "bar_height": BAR_HEIGHT,
        "label_end": LABEL_WIDTH - 8,
        "hist_width": HIST_WIDTH,
        "hist_height": HIST_TOP + HIST_HEIGHT + 40,
        "hist_base": HIST_TOP + HIST_HEIGHT,
        "hist_label_y": HIST_TOP + HIST_HEIGHT + 18,
    }


@page(who="agent")
def sla_report(request: HttpRequest) -> HttpResponse:
    form = ReportForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    first: date | None = data.get("from")
    last: date | None = data.get("to")
    group = data.get("group") or "channel"
    error = ""
    try:
        table = sla_compliance(first=first, last=last, group=group)
    except DomainError as err:
        error = err.message
        table = sla_compliance(group=group)
    if request.GET.get("format") == "csv":
        response = HttpResponse(report_csv(table), content_type="text/csv; charset=utf-8")
        name = f"sla-{table.group}-{table.first_day}-{table.last_day}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    def by(other: str) -> Report:
        if other == group:
            return table
        return sla_compliance(first=table.first_day, last=table.last_day, group=other, at=table.at)

    by_team, by_priority = by("team"), by("priority")
    team_bars, team_height = bars(by_team)
    priority_bars, priority_height = bars(by_priority)
    counts = distribution(by_team)
    context = {
        "form": form,
        "error": error,
        "report": table,
        "team_bars": team_bars,
        "team_height": team_height,
        "priority_bars": priority_bars,
        "priority_height": priority_height,
        "columns": histogram(counts),
        "answered": sum(n for _, n in counts),
        "chart": chart_geometry(),
        "csv_query": request.GET.urlencode(),
    }
    return render(request, "reports/sla.html", context)
