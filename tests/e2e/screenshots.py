"""Screenshots of the main pages, for the README: `make screenshots` (or run this file).

A throwaway instance with the demo company (`caredesk setup`), served by `caredesk serve
--web-only`, photographed by Debian's Chromium through Playwright, as in the end-to-end
tests. The PNGs go to docs/screenshots/ (or --out DIR).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CAREDESK_CHROMIUM", "/usr/bin/chromium")
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def demo_instance() -> Iterator[tuple[str, dict[str, str]]]:
    """A data dir with the demo company, served on a free port: (base URL, environment)."""
    data = Path(tempfile.mkdtemp(prefix="caredesk-shots-"))
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAREDESK_")}
    env.update(
        CAREDESK_DATA_DIR=str(data),
        CAREDESK_BASE_URL=f"http://127.0.0.1:{port}",
        CAREDESK_LOG_LEVEL="WARNING",
    )
    run = [sys.executable, "-m", "caredesk"]
    server = None
    try:
        subprocess.run(
            [*run, "setup"],
            env=env,
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        server = subprocess.Popen(
            [*run, "serve", "--web-only", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=ROOT,
        )
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=1):  # noqa: S310 -- our http URL
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError("the server did not come up")
        yield base, env
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:  # a graceful stop can outlast a loaded machine
                server.kill()
                server.wait()
        shutil.rmtree(data, ignore_errors=True)


def people(env: dict[str, str]) -> dict[str, str]:
    """Who to sign in as, read from the demo instance's database."""
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caredesk.settings")
    import django

    django.setup()
    from caredesk.people.models import User
    from caredesk.tickets.models import Ticket

    def first(**filters: Any) -> User:
        found = User.objects.filter(**filters).order_by("id").first()
        assert found is not None, filters
        return found

    rep = first(role="representative", team_id="customer-care")
    customer = first(role="customer", requested_tickets__type_id="technical-support")
    tsup = (
        Ticket.objects.filter(type_id="technical-support", origin__requester=customer)
        .order_by("-id")
        .first()
    )
    assert tsup is not None and tsup.origin is not None
    return {
        "rep": rep.email,
        "engineer": first(role="engineer").email,
        "manager": first(role="manager").email,
        "customer": customer.email,
        "case": tsup.origin.number,
        "tsup": tsup.number,
    }


def shoot(base: str, who: dict[str, str], out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    from caredesk.core.demo import PASSWORD

    written: list[Path] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--no-first-run"]
        )

        def page_as(email: str | None, viewport: dict[str, int] = DESKTOP) -> Any:
            context = browser.new_context(base_url=base, viewport=viewport)
            page = context.new_page()
            if email:
                page.goto("/signin/")
                page.get_by_label("Email").fill(email)
                page.get_by_label("Password").fill(PASSWORD)
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_load_state("networkidle")
            return page

        def snap(page: Any, name: str, *, full: bool = True) -> None:
            page.wait_for_load_state("networkidle")
            path = out / f"{name}.png"
            page.screenshot(path=str(path), full_page=full)
            written.append(path)

        visitor = page_as(None)
        visitor.goto("/")
        snap(visitor, "portal-sign-in")

        desk = page_as(who["rep"])
        desk.goto("/desk/?view=all")
        snap(desk, "desk-queue", full=False)
        desk.keyboard.press("?")
        snap(desk, "desk-keyboard-help", full=False)
        desk.keyboard.press("Escape")
        desk.goto("/desk/new/")
        desk.get_by_label("Phone number, email, name or organization").fill(
            who["customer"].split("@")[0]
        )
        desk.wait_for_selector(".caller")
        snap(desk, "desk-new-case")
        desk.goto(f"/desk/tickets/{who['case']}/")
        snap(desk, "desk-case")

        tech = page_as(who["engineer"])
        tech.goto(f"/desk/tickets/{who['tsup']}/")
        snap(tech, "desk-escalated-ticket")

        board = page_as(who["manager"])
        board.goto("/desk/dashboard/")
        snap(board, "desk-dashboard")

        portal = page_as(who["customer"])
        portal.goto("/")
        snap(portal, "portal-home")
        portal.goto("/requests/")
        snap(portal, "portal-requests")
        phone = page_as(who["customer"], PHONE)
        phone.goto(f"/requests/{who['case']}/")
        snap(phone, "portal-request-phone")

        status = page_as(None)
        status.goto("/status/")
        snap(status, "status-page", full=False)
        browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args(argv)
    if not shutil.which(CHROMIUM):
        print(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    with demo_instance() as (base, env):
        who = people(env)
        for path in shoot(base, who, args.out):
            print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
