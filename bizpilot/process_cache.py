"""A value each process reads from the database at most once per FLAGS_CACHE_SECONDS, for checks on a hot path
that are nearly always the same (is anyone listening for webhooks, is a CRM connected, is anyone set up for
alerts): the common answer costs no query. A save in this process forgets it at once (`forget`); other processes
see the change within FLAGS_CACHE_SECONDS."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from django.conf import settings

T = TypeVar("T")


class ProcessCached(Generic[T]):
    everything: list[ProcessCached] = []

    def __init__(self, load: Callable[[], T]) -> None:
        self.load = load
        self.lock = threading.Lock()
        self.cached: tuple[float, T] | None = None
        ProcessCached.everything.append(self)

    def get(self) -> T:
        now = time.monotonic()
        cached = self.cached
        if cached is None or now - cached[0] >= settings.FLAGS_CACHE_SECONDS:
            value = self.load()
            with self.lock:
                self.cached = cached = (now, value)
        return cached[1]

    def forget(self) -> None:
        with self.lock:
            self.cached = None

    @classmethod
    def forget_all(cls) -> None:
        """Tests: no process-level answer outlives the test that wrote its rows."""
        for cache in cls.everything:
            cache.forget()
