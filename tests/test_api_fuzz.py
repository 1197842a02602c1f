"""schemathesis against /api/v1/openapi.json: every operation, generated input, no 5xx, and
every response as the document says (status, content type, body and headers).

Runs in-process against the WSGI application with an admin's token (every right), on a
database holding a case with a message and an attachment, an escalation with a work order,
and an incident. Examples per operation are capped (CAREDESK_FUZZ_EXAMPLES, default 25) so
the module takes a few minutes at most.

Schema-violating input is generated too, and must get no 5xx and a documented answer; but
its "must be rejected" check is off, because a query string cannot carry JSON's null, arrays
or booleans: the values it turns them into ("true", "") are valid strings again.
Of the other checks all run but one: schema-valid input that names something unknown (an agent, an
environment, a category, a webhook host that does not resolve) or asks for a move the rules
refuse is answered 422 or 409 with a clear message, which schemathesis's positive-data check
would count as a failure. Input the schema itself can rule out (empty or oversized text,
limits, dates) is in the schema, so invalid input is refused before any rule runs.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import negative_data_rejection, positive_data_acceptance

from caredesk.people import services as people
from caredesk.people.models import User
from caredesk.status import services as status_services
from caredesk.tickets import services
from caredesk.tickets.work_orders import draft_work_order

EXAMPLES = int(os.environ.get("CAREDESK_FUZZ_EXAMPLES", "25"))


@schemathesis.serializer("message/rfc822")
def _raw_mail(ctx: Any, value: Any) -> bytes:
    # The intake endpoint takes a raw message: whatever was generated, sent as its bytes.
    return value if isinstance(value, bytes) else str(value).encode("utf-8", "surrogatepass")


schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())


@pytest.fixture(autouse=True)
def _keep_the_test_connection() -> Iterator[None]:
    # Requests run inside the test's transaction: like Django's test client, keep the
    # handler from closing the database connection at the end of each request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def admin_token(model: None, alice: User, settings: Any) -> str:
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    admin = people.add_user("admin@caredesk.test", role="admin", name="Ada Admin")
    rep = people.add_user("rep@caredesk.test", role="representative")
    case = services.open_case(actor=alice, subject="Dialer down", channel="portal")
    services.reply(
        case,
        actor=rep,
        body="Looking",
        attachments=[SimpleUploadedFile("log.txt", b"log", content_type="text/plain")],
    )
    pc = services.escalate(
        case, actor=rep, to="project-coordination", reason="Change", category="platform-change"
    )
    draft_work_order(pc, actor=rep, scope="Change the caller ID")
    status_services.create_incident(actor=admin, name="NA3 errors", body="Looking", components={})
    return people.create_token(admin)[1]


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_openapi_document(case: Any, admin_token: str) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Bearer {admin_token}"},
        excluded_checks=[positive_data_acceptance, negative_data_rejection],
    )
