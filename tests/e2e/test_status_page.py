"""The public status page in a real browser: banner, dashboard matrix, uptime bars and
their tooltips, an "Updated … ago" that stays true, no JavaScript needed, accessible basics."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from playwright.sync_api import expect

from caredesk.core.clock import now
from caredesk.people.models import User
from caredesk.status import public, services
from caredesk.status.models import Component

pytestmark = pytest.mark.django_db(transaction=True)

# The WCAG 2 contrast ratio of the text against its first opaque background, in the page.
CONTRAST = """
(el) => {
  function rgb(c) {
    const m = c.match(/rgba?\\(([^)]+)\\)/);
    const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  }
  function lum(c) {
    const f = (v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
  }
  let bg = null;
  for (let n = el; n; n = n.parentElement) {
    const c = rgb(getComputedStyle(n).backgroundColor);
    if (c.a === 1) { bg = c; break; }
  }
  bg = bg || { r: 255, g: 255, b: 255, a: 1 };
  const style = getComputedStyle(el);
  const fg = rgb(style.color);
  const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
  const size = parseFloat(style.fontSize);
  const bold = parseInt(style.fontWeight, 10) >= 700;
  const large = size >= 24 || (bold && size >= 18.66);
  return { ratio: (hi + 0.05) / (lo + 0.05), needed: large ? 3 : 4.5, text: el.textContent.trim() };
}
"""

HEADINGS = """
() => Array.from(document.querySelectorAll("h1, h2, h3, h4, h5, h6")).map(
  (h) => Number(h.tagName[1]))
"""


@pytest.fixture
def history(model: None, manager: User) -> Iterator[None]:
    """Two days ago NA4's API had a three-hour partial outage; now NA3's dialer is slow."""
    public.forget()
    # The page has been up for a month: its bars have data from then on.
    Component.objects.update(created_at=now() - timedelta(days=30))
    api = Component.objects.get(environment_id="NA4", name="API")
    dialer = Component.objects.get(environment_id="NA3", name="LiveVox")
    # 10:00 to 13:00 on the page's clock, so the outage sits inside one day of the bars.
    zone = ZoneInfo("America/New_York")
    start = datetime.combine(now().astimezone(zone).date() - timedelta(days=2), time(10), zone)
    with time_machine.travel(start, tick=False):
        services.set_component(api, actor=manager, status="partial_outage")
    with time_machine.travel(start + timedelta(hours=3), tick=False):
        services.set_component(api, actor=manager, status="operational")
    services.create_incident(
        actor=manager,
        name="Slow dialing on NA3",
        body="Calls on NA3 take longer to connect. We are investigating.",
        environment="NA3",
        components={dialer.pk: "degraded_performance"},
    )
    yield
    public.forget()


def test_banner_matrix_and_uptime_bars(new_page: Any, history: None) -> None:
    page = new_page()
    page.goto("/status/")
    banner = page.locator(".sp-banner")
    expect(banner.get_by_role("heading", level=1)).to_have_text("Partially Degraded Service")
    expect(banner).to_contain_text("Updated a few seconds ago")

    matrix = page.get_by_role("table")
    expect(matrix.get_by_role("columnheader")).to_have_text(
        ["Component", "NA3", "NA4", "NA5", "NA6", "SFTP", "PDAS", "TECKST", "SPEECHIQ"]
    )
    livevox = matrix.get_by_role("row", name=re.compile(r"^LiveVox"))
    # Each cell says its version and its status in words, not by colour alone.
    expect(livevox.get_by_role("cell").first).to_have_text(re.compile(r"12\s*Degraded performance"))
    expect(livevox.get_by_role("cell").nth(1)).to_have_text(re.compile(r"12\s*Operational"))

    active = page.get_by_role("region", name="Active incidents")
    expect(active).to_contain_text("Slow dialing on NA3")
    expect(active).to_contain_text("Calls on NA3 take longer to connect")

    na4 = page.locator(".sp-component", has=page.get_by_role("heading", name="NA4"))
    bad_day = na4.locator(".sp-bars li.sp-d-partial_outage")
    expect(bad_day).to_have_count(1)
    bad_day.hover()
    tooltip = bad_day.get_attribute("title") or ""
    assert re.search(r"\d\d\.\d\d% uptime; partial outage 3 h", tooltip), tooltip
    expect(na4.locator(".sp-bars li")).to_have_count(90)
    # The same days in words, for those who cannot see the bars.
    na4.get_by_text("1 day with issues").click()
    expect(na4.locator(".sp-issues li")).to_have_text([tooltip])
    assert not page.errors, page.errors


def test_the_updated_time_stays_true(new_page: Any, history: None, manager: User) -> None:
    page = new_page()
    page.clock.install()
    page.goto("/status/")
    updated = page.locator("time[data-updated]")
    expect(updated).to_have_text("a few seconds ago")
    page.clock.run_for("00:45")
    expect(updated).to_have_text(re.compile(r"^4\d seconds ago$"))

    # The page polls status.json each minute: a change since it was drawn is announced,
    # and the time counts from that check again.
    services.set_component(
        Component.objects.get(environment_id="SFTP", name="SFTP"),
        actor=manager,
        status="major_outage",
    )
    page.clock.run_for("00:20")
    notice = page.get_by_role("status").filter(has_text="The status has changed")
    expect(notice).to_be_visible()
    expect(updated).to_have_text("a few seconds ago")
    notice.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Major System Outage")
    page.clock.run_for("02:00")
    expect(updated).to_have_text(re.compile(r"^(a few seconds|\d+ seconds) ago$"))
    assert not page.errors, page.errors


def test_readable_without_javascript(new_page: Any, history: None) -> None:
    page = new_page(java_script_enabled=False)
    page.goto("/status/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Partially Degraded Service")
    expect(page.locator(".sp-banner")).to_contain_text("Updated a few seconds ago")
    expect(page.get_by_role("table")).to_contain_text("Degraded performance")
    expect(page.get_by_role("region", name="Active incidents")).to_contain_text(
        "Slow dialing on NA3"
    )
    na4 = page.locator(".sp-component", has=page.get_by_role("heading", name="NA4"))
    na4.get_by_text("1 day with issues").click()  # <details> opens without a script
    expect(na4.locator(".sp-issues li")).to_contain_text(["partial outage 3 h"])
    expect(page.get_by_label("Email")).to_be_visible()
    page.get_by_role("link", name="NA4", exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("NA4")


def test_accessible_basics(new_page: Any, history: None) -> None:
    page = new_page()
    page.goto("/status/")
    assert page.locator("html").get_attribute("lang") == "en"
    expect(page.get_by_role("main")).to_have_count(1)
    expect(page.get_by_role("banner")).to_have_count(1)
    expect(page.get_by_role("contentinfo")).to_have_count(1)
    expect(page.get_by_role("navigation", name="Environments")).to_be_visible()
    levels = page.evaluate(HEADINGS)
    assert levels.count(1) == 1, levels
    for before, after in pairwise(levels):
        assert after <= before + 1, f"a heading level is skipped: {levels}"
    expect(page.get_by_role("link", name="Skip to content")).to_have_count(1)

    pills = page.locator(".sp-pill")
    assert pills.count() >= 12
    statuses = set()
    for i in range(pills.count()):
        pill = pills.nth(i)
        label = pill.inner_text().strip()
        assert label, "every status is said in words"
        statuses.add(label)
        found = pill.evaluate(CONTRAST)
        assert found["ratio"] >= found["needed"], found
    assert {"Operational", "Degraded performance"} <= statuses
    for selector in (".sp-banner h1", ".sp-updated", ".sp-uptime-percent", ".sp-matrix th"):
        found = page.locator(selector).first.evaluate(CONTRAST)
        assert found["ratio"] >= found["needed"], (selector, found)


@pytest.mark.parametrize(
    "status", ["degraded_performance", "partial_outage", "major_outage", "under_maintenance"]
)
def test_every_status_colour_is_readable(
    new_page: Any, model: None, manager: User, status: str
) -> None:
    public.forget()
    services.set_component(
        Component.objects.get(environment_id="SFTP", name="SFTP"), actor=manager, status=status
    )
    page = new_page()
    page.goto("/status/")
    for selector in (f".sp-pill.sp-{status}", ".sp-banner h1", ".sp-updated"):
        found = page.locator(selector).first.evaluate(CONTRAST)
        assert found["ratio"] >= found["needed"], (status, selector, found)
