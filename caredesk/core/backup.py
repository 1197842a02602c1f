"""Backups of an instance: its database and its files under the data dir, in one archive.

The archive is a gzip'd tar whose first member, `manifest.json`, names the format
version, the database vendor, when it was made, row counts, the applied migrations and a
SHA-256 of every other member. A restore reads and checks the whole archive (and, for
SQLite, the database's own integrity) before it touches anything, so a damaged file or one
made for the other database vendor changes nothing.

The database copies themselves (SQLite's online backup API, pg_dump in an exported
snapshot) are in caredesk/core/databases.py.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import sqlite3
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from django.conf import settings
from django.db import connection

from caredesk.core import databases
from caredesk.core.clock import now
from caredesk.core.databases import BackupError

FORMAT = "caredesk-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database.sqlite3"
PG_MEMBER = "database.pgdump"
FILES = "files/"
# Under the data dir, everything is the instance's data except these: the database itself
# (copied through its own API), Huey's queue, generated static files, the test database and
# the file outbox of a development instance.
SKIP_NAMES = ("huey.sqlite3", "test.sqlite3")
SKIP_DIRS = ("static", "outbox")


@dataclass(frozen=True)
class Summary:
    path: Path
    vendor: str
    counts: dict[str, int]
    files: int


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _data_dir() -> Path:
    return Path(settings.DATA_DIR)


def _is_instance_file(rel: PurePosixPath) -> bool:
    """Whether a path relative to the data dir holds instance data (see SKIP_*)."""
    parts = rel.parts
    if not parts or rel.is_absolute() or ".." in parts or any(p.startswith(".") for p in parts):
        return False
    if len(parts) > 1:
        return parts[0] not in SKIP_DIRS
    name = parts[0]
    # The embedded database file is skipped even on PostgreSQL: there it is a leftover.
    skipped = (*SKIP_NAMES, Path(settings.SQLITE_PATH).name)
    return not name.startswith(skipped) and not name.endswith(".tmp")


def instance_files() -> list[Path]:
    """The files under the data dir that belong to the instance (paths relative to it)."""
    root = _data_dir()
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        if here == root:
            dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS and not d.startswith(".")]
        for name in filenames:
            path = here / name
            rel = path.relative_to(root)
            wanted = _is_instance_file(PurePosixPath(rel.as_posix()))
            if wanted and path.is_file() and not path.is_symlink():
                found.append(rel)
    return sorted(found)


# --- backup ---------------------------------------------------------------------------------


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(now().timestamp())
    info.mode = 0o600
    tar.addfile(info, io.BytesIO(data))


def backup(path: str | Path) -> Summary:
    """Write the instance's database and files to one archive at `path`."""
    target = Path(path).resolve()
    if target.is_dir():
        raise BackupError(f"{target} is a directory; name the archive file to write.", field="file")
    if not target.parent.is_dir():
        raise BackupError(f"The directory {target.parent} does not exist.", field="file")
    if target.is_relative_to(_data_dir()):
        # It would be part of the next backup, and lost with the disk it protects against.
        raise BackupError(f"Write the backup outside the data dir {_data_dir()}.", field="file")
    kind = databases.vendor()
    if kind not in ("sqlite", "postgresql"):
        raise BackupError(f"Backups support SQLite and PostgreSQL, not {kind}.")
    connection.close()
    with tempfile.TemporaryDirectory(prefix="caredesk-backup-") as tmp:
        member = SQLITE_MEMBER if kind == "sqlite" else PG_MEMBER
        dump = Path(tmp) / member
        counts, migrations = (
            databases.dump_sqlite if kind == "sqlite" else databases.dump_postgres
        )(dump)
        root = _data_dir()
        files: list[dict[str, Any]] = []
        for rel in instance_files():
            with contextlib.suppress(FileNotFoundError):  # deleted while we walked
                full = root / rel
                files.append(
                    {"path": rel.as_posix(), "sha256": _sha256(full), "size": full.stat().st_size}
                )
        manifest = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "vendor": kind,
            "created_at": now().isoformat(),
            "counts": counts,
            "migrations": migrations,
            "database": {"member": member, "sha256": _sha256(dump), "size": dump.stat().st_size},
            "files": files,
        }
        partial = target.with_name(target.name + ".tmp")
        try:
            with tarfile.open(partial, "w:gz") as tar:
                _add_bytes(tar, MANIFEST, json.dumps(manifest, indent=2).encode())
                tar.add(dump, arcname=member, recursive=False)
                for entry in files:
                    tar.add(root / entry["path"], arcname=FILES + entry["path"], recursive=False)
            partial.chmod(0o600)  # it holds password hashes and the instance's secret key
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)
    return Summary(target, kind, counts, len(files))


# --- restore --------------------------------------------------------------------------------


def _damaged(path: Path, why: str) -> BackupError:
    return BackupError(f"{path} is not a usable caredesk backup ({why}); nothing was changed.")


def _safe_member(name: str) -> bool:
    parts = Path(name).parts
    return bool(parts) and not Path(name).is_absolute() and ".." not in parts


@contextlib.contextmanager
def _unpacked(path: Path) -> Iterator[tuple[dict[str, Any], Path]]:
    """The archive's manifest and its members in a scratch directory, every checksum checked."""
    if not path.is_file():
        raise BackupError(f"There is no file {path}.", field="file")
    root = _data_dir()
    # Inside the data dir, so moving the restored files into place is a rename.
    with tempfile.TemporaryDirectory(prefix=".restore-", dir=root) as tmp:
        scratch = Path(tmp)
        try:
            with tarfile.open(path, "r:*") as tar:
                first = tar.next()
                if first is None or first.name != MANIFEST:
                    raise _damaged(path, "it does not start with a caredesk manifest")
                handle = tar.extractfile(first)
                manifest = json.loads(handle.read() if handle else b"")
                if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
                    raise _damaged(path, "its manifest is not a caredesk manifest")
                for info in tar:
                    if not info.isfile() or not _safe_member(info.name):
                        raise _damaged(path, f"it holds an unexpected member {info.name!r}")
                    tar.extract(info, scratch, filter="data")
        except (tarfile.TarError, EOFError, OSError, ValueError, zlib.error) as exc:
            raise _damaged(path, f"the archive cannot be read: {exc}") from None
        _check(path, manifest, scratch)
        yield manifest, scratch


def _well_formed(manifest: dict[str, Any]) -> bool:
    database, files = manifest.get("database"), manifest.get("files")
    if not isinstance(database, dict) or not isinstance(files, list):
        return False
    members = {"sqlite": SQLITE_MEMBER, "postgresql": PG_MEMBER}
    if database.get("member") != members.get(str(manifest.get("vendor"))):
        return False
    return (
        isinstance(database.get("sha256"), str)
        and isinstance(manifest.get("counts"), dict)
        and isinstance(manifest.get("migrations"), list)
        and all(
            isinstance(f, dict)
            and isinstance(f.get("path"), str)
            and isinstance(f.get("sha256"), str)
            and _is_instance_file(PurePosixPath(f["path"]))
            for f in files
        )
    )


def _check(path: Path, manifest: dict[str, Any], scratch: Path) -> None:
    if manifest.get("version") != FORMAT_VERSION:
        raise _damaged(path, f"format version {manifest.get('version')!r}; this caredesk reads 1")
    if not _well_formed(manifest):
        raise _damaged(path, "its manifest is incomplete or names files outside the instance")
    kind = databases.vendor()
    if manifest.get("vendor") != kind:
        raise BackupError(
            f"{path} is a backup of a {manifest.get('vendor')} database, and this instance runs"
            f" on {kind}; restore it into an instance on {manifest.get('vendor')}. Nothing was"
            " changed."
        )
    expected = [(manifest["database"]["member"], manifest["database"]["sha256"])]
    expected += [(FILES + f["path"], f["sha256"]) for f in manifest.get("files", [])]
    for name, digest in expected:
        member = scratch / name
        if not _safe_member(name) or not member.is_file():
            raise _damaged(path, f"{name} is missing")
        if _sha256(member) != digest:
            raise _damaged(path, f"{name} does not match its checksum")
    known = _known_migrations()
    try:
        applied = {(str(app), str(name)) for app, name in manifest["migrations"]}
    except (TypeError, ValueError):
        raise _damaged(path, "its list of migrations cannot be read") from None
    newer = sorted(f"{app}.{name}" for app, name in applied - known)
    if newer:
        raise BackupError(
            f"{path} comes from a newer caredesk (migrations {', '.join(newer[:3])} are unknown"
            " here); upgrade caredesk first. Nothing was changed."
        )
    if kind == "sqlite":
        db = sqlite3.connect(scratch / manifest["database"]["member"])
        try:
            ok = db.execute("PRAGMA integrity_check").fetchone()[0]
            counts = databases.row_counts(db.cursor())
        except sqlite3.DatabaseError as exc:
            raise _damaged(path, f"its database cannot be read: {exc}") from None
        finally:
            db.close()
        if ok != "ok" or counts != manifest.get("counts"):
            raise _damaged(path, "its database does not match the manifest")


def _known_migrations() -> set[tuple[str, str]]:
    from django.db.migrations.loader import MigrationLoader

    return set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)


def _replace_files(manifest: dict[str, Any], scratch: Path) -> None:
    root = _data_dir()
    restored = {f["path"] for f in manifest.get("files", [])}
    for rel in instance_files():
        if rel.as_posix() not in restored:
            (root / rel).unlink(missing_ok=True)
    for rel_name in sorted(restored):
        target = root / rel_name
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(scratch / FILES / rel_name, target)


def restore(path: str | Path) -> Summary:
    """Replace the instance's database and files with the archive's, after checking it all."""
    source = Path(path).resolve()
    connection.close()
    with _unpacked(source) as (manifest, scratch):
        member = scratch / manifest["database"]["member"]
        if manifest["vendor"] == "sqlite":
            databases.restore_sqlite(member)
        else:
            databases.restore_postgres(member)
        _replace_files(manifest, scratch)
    connection.close()
    with connection.cursor() as cursor:
        counts = databases.row_counts(cursor)
    if counts != manifest["counts"]:
        raise BackupError(f"The restored database holds {counts}, the backup {manifest['counts']}.")
    return Summary(source, manifest["vendor"], counts, len(manifest.get("files", [])))
