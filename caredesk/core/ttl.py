"""A value read at most every few seconds per process, and dropped at once on a save.

For configuration that hot paths ask for and admins change rarely (dial targets, blocked
numbers, webhooks): each process keeps what it read for up to `ttl` seconds; a save or
delete in this process drops it at once, and other processes see the change within `ttl`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from django.db import models, transaction
from django.db.models.signals import post_delete, post_save

T = TypeVar("T")


class Kept(Generic[T]):
    def __init__(self, load: Callable[[], T], *, ttl: float) -> None:
        self._load = load
        self.ttl = ttl
        self._kept: tuple[float, T] | None = None
        self._generation = 0
        self._lock = threading.Lock()

    def get(self) -> T:
        kept = self._kept
        if kept is not None and time.monotonic() - kept[0] < self.ttl:
            return kept[1]
        generation = self._generation
        value = self._load()
        with self._lock:
            # A thread that read before another one's forget() must not keep the old value.
            if generation == self._generation:
                self._kept = (time.monotonic(), value)
        return value

    def forget(self, **_: object) -> None:
        with self._lock:
            self._generation += 1
            self._kept = None

    def forget_after_commit(self, **_: object) -> None:
        """Drop it now and again at the commit: a read by another thread between the change
        and its commit would otherwise keep the value from before for `ttl` seconds."""
        self.forget()
        transaction.on_commit(self.forget)

    def forget_on_save(self, *senders: type[models.Model]) -> None:
        """Drop the value whenever one of `senders` is saved or deleted in this process
        (queryset updates send no signal: their callers call forget_after_commit())."""
        for sender in senders:
            uid = f"kept-{id(self)}-{sender._meta.label}"
            post_save.connect(self.forget_after_commit, sender=sender, dispatch_uid=uid)
            post_delete.connect(self.forget_after_commit, sender=sender, dispatch_uid=f"{uid}-del")
