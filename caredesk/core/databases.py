"""Copies of the database for backups, and the row counts a manifest records.

SQLite is copied with its online backup API, which reads one consistent snapshot while
the instance keeps serving; PostgreSQL with pg_dump (custom format) inside an exported
snapshot, so the counts in the manifest describe exactly the rows in the dump. Restores
replace the whole database in one transaction.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, connections

from caredesk.core.errors import InvalidInput


class BackupError(InvalidInput):
    """A backup that cannot be made, or an archive that may not be restored."""


# Tables whose rows the manifest counts (checked again after a restore).
COUNTED = {
    "tickets": "tickets_ticket",
    "messages": "tickets_message",
    "events": "tickets_event",
    "attachments": "tickets_attachment",
    "users": "people_user",
    "organizations": "people_organization",
}


def vendor() -> str:
    return connection.vendor


def sqlite_path() -> Path:
    return Path(settings.DATABASES["default"]["NAME"])


def row_counts(cursor: Any) -> dict[str, int]:
    found = {}
    for key, table in COUNTED.items():
        cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 (fixed table names)
        found[key] = int(cursor.fetchone()[0])
    return found


def applied_migrations(cursor: Any) -> list[list[str]]:
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
    return [[app, name] for app, name in cursor.fetchall()]


def dump_sqlite(target: Path) -> tuple[dict[str, int], list[list[str]]]:
    source = sqlite3.connect(sqlite_path(), timeout=30)
    copy = sqlite3.connect(target)
    try:
        # One step (-1 pages): the whole database under one read snapshot, so writers of a
        # running instance neither restart the copy nor end up half in it.
        source.backup(copy, pages=-1)
        copy.execute("PRAGMA journal_mode=DELETE")
        cursor = copy.cursor()
        return row_counts(cursor), applied_migrations(cursor)
    finally:
        copy.close()
        source.close()


def _pg_env() -> tuple[list[str], dict[str, str]]:
    db = settings.DATABASES["default"]
    args = []
    if db.get("HOST"):
        args += ["--host", str(db["HOST"])]
    if db.get("PORT"):
        args += ["--port", str(db["PORT"])]
    if db.get("USER"):
        args += ["--username", str(db["USER"])]
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return args, env


def _run(command: list[str], env: dict[str, str], **kw: Any) -> subprocess.CompletedProcess[bytes]:
    try:
        done = subprocess.run(command, env=env, capture_output=True, check=False, **kw)
    except FileNotFoundError:
        raise BackupError(
            f"{command[0]} is not installed; PostgreSQL backups need the PostgreSQL client"
            " programs (pg_dump, pg_restore, psql) of the server's major version."
        ) from None
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed: {done.stderr.decode(errors='replace').strip()}")
    return done


def dump_postgres(target: Path) -> tuple[dict[str, int], list[list[str]]]:
    args, env = _pg_env()
    name = str(settings.DATABASES["default"]["NAME"])
    snapshot = connections.create_connection("default")
    try:
        # The counts and pg_dump read the same exported snapshot: the manifest tells exactly
        # what is in the dump even while the instance keeps writing.
        with snapshot.cursor() as cursor:
            cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot_id = cursor.fetchone()[0]
            counts, migrations = row_counts(cursor), applied_migrations(cursor)
            _run(
                ["pg_dump", *args, "--format=custom", f"--snapshot={snapshot_id}",
                 "--no-owner", "--no-privileges", "--file", str(target), name],
                env,
            )  # fmt: skip
            cursor.execute("COMMIT")
    finally:
        snapshot.close()
    return counts, migrations


def restore_sqlite(copy: Path) -> None:
    source = sqlite3.connect(copy)
    live = sqlite3.connect(sqlite_path(), timeout=30)
    try:
        # The backup API writes the copy's pages into the live database in one transaction:
        # the instance's other connections see the old data or the restored data, never a mix.
        source.backup(live, pages=-1)
    except sqlite3.OperationalError as exc:
        raise BackupError(
            f"The database could not be replaced: {exc}; nothing was changed."
        ) from None
    finally:
        live.close()
        source.close()


def restore_postgres(dump: Path) -> None:
    args, env = _pg_env()
    name = str(settings.DATABASES["default"]["NAME"])
    # The whole script is written out first: psql must never commit half of a dump that
    # pg_restore failed to read to the end.
    script = dump.with_suffix(".sql")
    _run(["pg_restore", "--no-owner", "--no-privileges", "--file", str(script), str(dump)], env)
    # One transaction: the old schema goes and the dump comes in, or nothing happens at all.
    _run(
        ["psql", *args, "--dbname", name, "--quiet", "--no-psqlrc", "--single-transaction",
         "--set", "ON_ERROR_STOP=1",
         "--command", "DROP SCHEMA public CASCADE", "--command", "CREATE SCHEMA public",
         "--file", str(script)],
        env,
    )  # fmt: skip
