"""Shared fixtures: the guide's model loaded, and the people of our stories.

A representative, an engineer, a coordinator, an Emergency Care agent, a manager,
two customers of Acme and one of Globex.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from model_files import MODEL_FILE

from caredesk.people import services as people
from caredesk.people.models import Organization, User
from caredesk.servicemodel import loader


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _tasks_run_at_once() -> Any:
    # Background tasks run inline in tests (Huey's immediate mode, in-memory storage).
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = True
    yield
    HUEY.immediate = False


@pytest.fixture(autouse=True)
def _fresh_model_cache() -> None:
    # Each test's database starts empty: no service model read by an earlier test may linger.
    from caredesk.api.outgoing import forget_subscriptions
    from caredesk.phone.services import forget_phone_config
    from caredesk.servicemodel.cache import invalidate

    invalidate()
    forget_phone_config()
    forget_subscriptions()


@pytest.fixture
def model(db: None) -> None:
    loader.load(MODEL_FILE)


def _agent(email: str, role: str, name: str) -> User:
    return people.add_user(email, role=role, name=name, password="correct horse battery")


@pytest.fixture
def rep(model: None) -> User:
    return _agent("rep@caredesk.test", "representative", "Casey Rep")


@pytest.fixture
def rep2(model: None) -> User:
    return _agent("rep2@caredesk.test", "representative", "Jordan Rep")


@pytest.fixture
def engineer(model: None) -> User:
    return _agent("engineer@caredesk.test", "engineer", "Sam Engineer")


@pytest.fixture
def coordinator(model: None) -> User:
    return _agent("coordinator@caredesk.test", "coordinator", "Pat Coordinator")


@pytest.fixture
def emergency(model: None) -> User:
    return _agent("emergency@caredesk.test", "emergency", "Robin Emergency")


@pytest.fixture
def manager(model: None) -> User:
    return _agent("manager@caredesk.test", "manager", "Morgan Manager")


@pytest.fixture
def acme(model: None) -> Organization:
    return people.get_or_create_organization("Acme", domains=["acme.test"])


@pytest.fixture
def globex(model: None) -> Organization:
    return people.get_or_create_organization("Globex", domains=["globex.test"])


@pytest.fixture
def alice(acme: Organization) -> User:
    return people.add_user(
        "alice@acme.test",
        role="customer",
        org="acme",
        name="Alice",
        password="correct horse battery",
    )


@pytest.fixture
def bob(acme: Organization) -> User:
    return people.add_user(
        "bob@acme.test", role="customer", org="acme", name="Bob", password="correct horse battery"
    )


@pytest.fixture
def gina(globex: Organization) -> User:
    return people.add_user(
        "gina@globex.test",
        role="customer",
        org="globex",
        name="Gina",
        password="correct horse battery",
    )


class ApiClient:
    """Django's test client speaking JSON with a bearer token."""

    def __init__(self, user: User, scope: str = "all") -> None:
        _, self.token = people.create_token(user, scope=scope)
        self.user = user
        self.client = Client()

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **(extra or {})}

    def get(self, path: str, params: dict[str, Any] | None = None, **kw: Any) -> Any:
        return self.client.get(path, params or {}, headers=self._headers(kw.pop("headers", None)))

    def post(self, path: str, data: Any = None, **kw: Any) -> Any:
        return self.client.post(
            path,
            data or {},
            content_type="application/json",
            headers=self._headers(kw.pop("headers", None)),
        )


@pytest.fixture
def api() -> Callable[..., ApiClient]:
    return ApiClient


@pytest.fixture
def commit(django_capture_on_commit_callbacks: Any) -> Any:
    """`with commit():` runs on-commit work (queued tasks, webhooks) when the block ends."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
