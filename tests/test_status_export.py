"""`caredesk status export DIR` writes a page that stands on its own."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

from django.core.management import call_command

from caredesk.people.models import User
from caredesk.status import public, services


def test_export_writes_the_page_assets_and_json(tmp_path: Path, manager: User) -> None:
    public.forget()
    incident = services.create_incident(actor=manager, name="Dialer slow", body="Looking.")
    out = StringIO()
    call_command("status", "export", str(tmp_path), stdout=out)
    assert "Wrote" in out.getvalue()
    index = (tmp_path / "status" / "index.html").read_text()
    assert "Dialer slow" in index and "System dashboard" in index
    summary = json.loads((tmp_path / "status/api/v2/summary.json").read_text())
    assert summary["incidents"][0]["name"] == "Dialer slow"
    assert (tmp_path / "status/environments/NA3/index.html").exists()
    assert (tmp_path / f"status/incidents/{incident.pk}/index.html").exists()
    assert (tmp_path / "status/history.atom").read_text().startswith("<?xml")
    assert (tmp_path / "static/caredesk/status.js").exists()
    assert (tmp_path / "static/caredesk/caredesk.css").exists()
    public.forget()
