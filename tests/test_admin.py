"""Admins see every model, and the service model at a glance."""

from __future__ import annotations

import pytest
from django.test import Client

from caredesk.people import services as people


@pytest.fixture
def admin_client_signed_in(model: None) -> Client:
    admin = people.add_user("admin@caredesk.test", role="admin", password="correct horse battery")
    client = Client()
    client.force_login(admin)
    return client


def test_service_model_summary_shows_the_guide(admin_client_signed_in: Client) -> None:
    page = admin_client_signed_in.get("/admin/service-model/")
    assert page.status_code == 200
    html = page.content.decode()
    for expected in (
        "CASE-100",
        "TSUP-100",
        "100100",
        "07:00-24:00",
        "07:00-22:00",
        "≤ 30s",
        "≤ 10m",
        "≤ 1h",
        "LiveVox 12",
        "API 12.0",
        "SPEECHIQ",
        "Platform Changes",
    ):
        assert expected in html, expected


def test_admin_index_links_to_the_summary(admin_client_signed_in: Client) -> None:
    assert "/admin/service-model/" in admin_client_signed_in.get("/admin/").content.decode()


@pytest.mark.parametrize(
    "path",
    [
        "/admin/tickets/ticket/",
        "/admin/tickets/event/",
        "/admin/tickets/workorder/",
        "/admin/people/user/",
        "/admin/people/organization/",
        "/admin/people/apitoken/",
        "/admin/servicemodel/tickettype/",
        "/admin/servicemodel/calendar/",
        "/admin/servicemodel/prioritylevel/",
        "/admin/servicemodel/channeltarget/",
        "/admin/servicemodel/category/",
        "/admin/servicemodel/team/",
        "/admin/status/environment/",
        "/admin/status/component/",
    ],
)
def test_every_model_has_an_admin_page(admin_client_signed_in: Client, path: str) -> None:
    assert admin_client_signed_in.get(path).status_code == 200


def test_customers_and_anonymous_are_kept_out(alice) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    assert client.get("/admin/service-model/").status_code == 302
    client.force_login(alice)
    assert client.get("/admin/service-model/").status_code == 302
