"""`caredesk backup` and `caredesk restore`: a round trip on SQLite and on PostgreSQL.

Each test runs its own instance through the console script (a temporary data dir, and for
PostgreSQL a database of its own): demo data and attachments, a backup, changes and
deletions, a restore, and then every ticket, message, event and attachment — every field
and every byte — compared with what was there when the backup was made.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest
from instances import instance_env as _env
from instances import scratch_postgres

ROOT = Path(__file__).resolve().parents[1]

ADD_ATTACHMENTS = """
from django.core.files.uploadedfile import SimpleUploadedFile
from caredesk.people.models import User
from caredesk.tickets import services
from caredesk.tickets.models import Ticket
rep = User.objects.filter(role="representative").first()
cases = Ticket.objects.filter(type="customer-care").exclude(status="closed").order_by("id")
for i, ticket in enumerate(cases[:3]):
    files = [SimpleUploadedFile(f"trace-{i}.bin", bytes(range(256)) * (i + 1) + b"%d" % i),
             SimpleUploadedFile("screen shot.png", b"\\x89PNG" + os.urandom(2000))]
    services.reply(ticket, actor=rep, body=f"Logs attached ({i}).", attachments=files)
"""

CHANGE_EVERYTHING = """
from caredesk.people.models import User
from caredesk.tickets import services
from caredesk.tickets.models import Attachment, Event, Message, Ticket
rep = User.objects.filter(role="representative").first()
Ticket.objects.filter(pk__in=Ticket.objects.order_by("id").values("pk")[:20]).update(
    subject="overwritten")
Event.objects.filter(kind="ticket.replied").delete()
gone = Attachment.objects.order_by("id").first()
gone.file.delete(save=False)
Message.objects.filter(attachments=None, pk__in=Message.objects.filter(
    attachments=None).order_by("-id").values("pk")[:10]).delete()
Message.objects.filter(pk=Attachment.objects.order_by("-id").first().message_id).delete()
case = services.open_case(actor=rep, subject="Opened after the backup", channel="api")
"""


def _caredesk(env: dict[str, str], *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "caredesk", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    if ok:
        assert done.returncode == 0, f"caredesk {' '.join(args)}:\n{done.stderr}{done.stdout}"
    return done


def _state(env: dict[str, str]) -> dict[str, Any]:
    """Every row of the tickets app (all fields) and the bytes of every attachment."""
    rows = json.loads(_caredesk(env, "dumpdata", "tickets", "people.user").stdout)
    data_dir = Path(env["CAREDESK_DATA_DIR"])
    files = {}
    for row in rows:
        if row["model"] == "tickets.attachment":
            path = data_dir / "attachments" / row["fields"]["file"]
            files[row["fields"]["file"]] = (
                hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None
            )
    kinds = {row["model"] for row in rows}
    return {"rows": rows, "files": files, "kinds": kinds}


def _round_trip(env: dict[str, str], tmp_path: Path) -> None:
    _caredesk(env, "setup", "--no-demo")
    _caredesk(env, "demo", "--tickets", "60")
    _caredesk(env, "shell", "-c", "import os\n" + ADD_ATTACHMENTS)
    original = _state(env)
    assert {"tickets.ticket", "tickets.message", "tickets.event", "tickets.attachment"} <= (
        original["kinds"]
    )
    assert len(original["files"]) == 6 and None not in original["files"].values()

    archive = tmp_path / "backup.tar.gz"
    out = _caredesk(env, "backup", str(archive)).stdout
    assert "6 attachments" in out
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
    assert manifest["counts"]["attachments"] == 6

    _caredesk(env, "shell", "-c", CHANGE_EVERYTHING)
    stray = Path(env["CAREDESK_DATA_DIR"]) / "attachments" / "stray.txt"
    stray.write_text("written after the backup")
    changed = _state(env)
    assert changed["rows"] != original["rows"] and None in changed["files"].values()

    # A damaged copy of the archive is refused before anything changes.
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    refused = _caredesk(env, "restore", str(truncated), ok=False)
    assert refused.returncode != 0 and "nothing was changed" in refused.stderr.lower()
    assert _state(env) == changed

    out = _caredesk(env, "restore", str(archive)).stdout
    assert "Restored" in out
    restored = _state(env)
    assert restored["rows"] == original["rows"]
    assert restored["files"] == original["files"]
    assert not stray.exists(), "files the backup did not have are gone"


def test_backup_and_restore_round_trip_on_sqlite(tmp_path: Path) -> None:
    _round_trip(_env(tmp_path / "data"), tmp_path)


KEEP_WRITING = """
from pathlib import Path
from caredesk.people.models import User
from caredesk.tickets import services
rep = User.objects.filter(role="representative").first()
stop = Path(sys.argv[-1])
for i in range(5000):  # until the backup is done
    services.open_case(actor=rep, subject=f"Written during the backup {i}", channel="api")
    if i == 5:
        print("writing", flush=True)
    if stop.exists():
        break
"""


def test_a_backup_of_a_busy_sqlite_instance_is_one_consistent_snapshot(tmp_path: Path) -> None:
    env = _env(tmp_path / "busy")
    _caredesk(env, "setup", "--no-demo")
    _caredesk(env, "user", "add", "rep@caredesk.test", "--role", "representative")
    stop = tmp_path / "stop"
    writer = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "caredesk",
            "shell",
            "-c",
            f"import sys\nsys.argv.append({str(stop)!r})\n" + KEEP_WRITING,
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None
        lines = iter(writer.stdout.readline, "")
        assert any(line.strip() == "writing" for line in lines), "the writer never started"
        archive = tmp_path / "busy.tar.gz"
        _caredesk(env, "backup", str(archive))
    finally:
        stop.touch()
        assert writer.wait(timeout=120) == 0
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
    assert manifest["counts"]["tickets"] >= 6

    # Into a second, empty instance: the restore checks the database against the manifest.
    fresh = _env(tmp_path / "fresh")
    _caredesk(fresh, "migrate", "--verbosity", "0")
    _caredesk(fresh, "restore", str(archive))
    rows = json.loads(_caredesk(fresh, "dumpdata", "tickets.ticket", "tickets.event").stdout)
    tickets = [r for r in rows if r["model"] == "tickets.ticket"]
    assert len(tickets) == manifest["counts"]["tickets"]
    # Every case in the snapshot came with its events: no half-written case.
    opened = {r["fields"]["ticket"] for r in rows if r["fields"].get("kind") == "ticket.opened"}
    assert opened == {r["pk"] for r in tickets}


def _archive(path: Path, manifest: dict[str, Any], members: dict[str, bytes]) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in {"manifest.json": json.dumps(manifest).encode(), **members}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_restore_refuses_a_wrong_vendor_or_a_tampered_archive(tmp_path: Path) -> None:
    env = _env(tmp_path / "data")
    _caredesk(env, "setup", "--no-demo")
    _caredesk(env, "demo", "--tickets", "10")
    before = _state(env)
    good = tmp_path / "good.tar.gz"
    _caredesk(env, "backup", str(good))
    with tarfile.open(good) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        database = tar.extractfile("database.sqlite3").read()  # type: ignore[union-attr]

    wrong_vendor = tmp_path / "pg.tar.gz"
    pg_manifest = {
        **manifest,
        "vendor": "postgresql",
        "database": {**manifest["database"], "member": "database.pgdump"},
    }
    _archive(wrong_vendor, pg_manifest, {"database.pgdump": database})
    tampered = tmp_path / "tampered.tar.gz"
    flipped = database[:5000] + bytes([database[5000] ^ 1]) + database[5001:]
    _archive(tampered, manifest, {"database.sqlite3": flipped})
    not_ours = tmp_path / "other.tar.gz"
    _archive(not_ours, {"hello": "world"}, {})
    traversal = tmp_path / "traversal.tar.gz"
    _archive(traversal, manifest, {"database.sqlite3": database, "../escape.txt": b"x"})

    outside = tmp_path / "outside.tar.gz"
    for n, name in enumerate(["/etc/passwd", "caredesk.sqlite3", "static/x", "../x"]):
        escaping = {**manifest, "files": [{"path": name, "sha256": "0" * 64, "size": 1}]}
        _archive(outside.with_name(f"outside{n}.tar.gz"), escaping, {"database.sqlite3": database})

    inside = _caredesk(env, "backup", str(Path(env["CAREDESK_DATA_DIR"]) / "b.tar.gz"), ok=False)
    assert inside.returncode != 0 and "outside the data dir" in inside.stderr

    for path, why in [
        (wrong_vendor, "is a backup of a postgresql database, and this instance runs on sqlite"),
        (tampered, "does not match its checksum"),
        (not_ours, "not a caredesk manifest"),
        (traversal, "unexpected member"),
        (tmp_path / "missing.tar.gz", "There is no file"),
        *[(outside.with_name(f"outside{n}.tar.gz"), "names files outside") for n in range(4)],
    ]:
        done = _caredesk(env, "restore", str(path), ok=False)
        assert done.returncode != 0 and why in done.stderr, (path, done.stderr)
    assert _state(env) == before
    assert not (tmp_path / "escape.txt").exists()
    assert not [p for p in Path(env["CAREDESK_DATA_DIR"]).iterdir() if p.name.startswith(".")]


@pytest.mark.postgres
def test_backup_and_restore_round_trip_on_postgres(tmp_path: Path) -> None:
    if not all(shutil.which(tool) for tool in ("pg_dump", "pg_restore", "psql")):
        pytest.skip("the PostgreSQL client programs (pg_dump, pg_restore, psql) are not installed")
    with scratch_postgres("backup") as url:
        _round_trip(_env(tmp_path / "data", url), tmp_path)
