"""Django's SQLite backend, with one change: writers queue on a lock file.

SQLite lets one writer in at a time and makes the others poll: a writer that finds the
database locked sleeps 1, 2, 5, 10 ... ms before it tries again, so under a steady stream
of short write transactions (a PBX's call events, an SMTP listener's messages) the
database often stands idle while every waiter sleeps. Before `BEGIN IMMEDIATE` each
connection takes an exclusive `flock` on `<database>.writers`: the kernel wakes the next
waiter the moment the previous transaction commits, and releases the lock of a process
that dies. Readers never take it (WAL lets them read alongside the writer).
"""

from __future__ import annotations

import fcntl
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.db import OperationalError
from django.db.backends.sqlite3 import base

# A writer that cannot get in for this long fails as SQLite's own busy timeout would.
WAIT_SECONDS = 30.0
# flock() itself cannot time out: a waiting writer blocks in one of these threads, on a
# duplicate of its descriptor (the lock belongs to the open file, not to the thread).
_WAITERS = ThreadPoolExecutor(max_workers=32, thread_name_prefix="sqlite-writers")


class _Wait:
    """One writer's blocked flock, which it may give up on after WAIT_SECONDS."""

    def __init__(self, fd: int) -> None:
        self.fd = os.dup(fd)
        self.settled = threading.Lock()
        self.taken = False
        self.abandoned = False

    def take(self) -> None:
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX)
            with self.settled:
                if self.abandoned:  # the writer gave up meanwhile: pass the turn on
                    fcntl.flock(self.fd, fcntl.LOCK_UN)
                else:
                    self.taken = True
        finally:
            os.close(self.fd)

    def wait(self) -> None:
        future = _WAITERS.submit(self.take)
        try:
            future.result(timeout=WAIT_SECONDS)
        except TimeoutError:
            with self.settled:
                self.abandoned = not self.taken
            if self.abandoned:
                raise OperationalError(
                    f"database is locked: no turn to write within {WAIT_SECONDS:.0f} s"
                ) from None


class DatabaseWrapper(base.DatabaseWrapper):
    _writers_fd: int | None = None
    _writers_pid = 0
    _writing = False

    def _writers_lock(self) -> int | None:
        # Opened by each process itself: a descriptor inherited across fork() would share
        # its lock with the parent.
        if self._writers_pid != os.getpid() and not self.is_in_memory_db():
            path = f"{self.settings_dict['NAME']}.writers"
            self._writers_fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._writers_pid, self._writing = os.getpid(), False
        return self._writers_fd

    def _take_turn(self) -> None:
        fd = self._writers_lock()
        if fd is None or self._writing:
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            _Wait(fd).wait()
        self._writing = True

    def _end_turn(self) -> None:
        if self._writing and self._writers_fd is not None:
            self._writing = False
            fcntl.flock(self._writers_fd, fcntl.LOCK_UN)

    def _start_transaction_under_autocommit(self) -> None:
        self._take_turn()
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]
        except BaseException:
            self._end_turn()
            raise

    def _commit(self) -> Any:
        try:
            return super()._commit()  # type: ignore[misc]
        finally:
            self._end_turn()

    def _rollback(self) -> Any:
        try:
            return super()._rollback()  # type: ignore[misc]
        finally:
            self._end_turn()

    def _close(self) -> None:
        try:
            super()._close()  # type: ignore[misc]
        finally:
            self._end_turn()
            if self._writers_fd is not None and self._writers_pid == os.getpid():
                os.close(self._writers_fd)
            self._writers_fd, self._writers_pid = None, 0
