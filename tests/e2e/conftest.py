"""End-to-end tests: Debian's Chromium driven by Playwright against a live server thread."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM = os.environ.get("CAREDESK_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not shutil.which(CHROMIUM):
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls from the
    # test body are still plain synchronous calls.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from django.db import connections
    from playwright.sync_api import sync_playwright

    # The tests go on in Playwright's greenlet, with a context of its own: a connection the
    # earlier tests left open would be orphaned there, idle, and keep PostgreSQL from
    # dropping the test database at the end.
    connections.close_all()

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        yield launched
        launched.close()
        # And the other way round: what the later tests opened in Playwright's context
        # would be orphaned once the session leaves it.
        connections.close_all()


@pytest.fixture
def new_page(browser: Any, live_server: Any) -> Iterator[Any]:
    """A page in a fresh browser context on the live server, closed after the test (an open
    context keeps its connections, and each holds a server thread's database connection)."""
    contexts = []

    def open_page(**options: Any) -> Any:
        context = browser.new_context(base_url=live_server.url, **options)
        contexts.append(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.errors = errors
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page_for(new_page: Any) -> Any:
    """A fresh browser context per person, signed in through the real sign-in form."""

    def open_as(email: str, password: str = "correct horse battery") -> Any:
        page = new_page()
        page.goto("/signin/")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        return page

    return open_as
