"""What every request looks up, kept in the process for a few seconds.

Each ``POST /v1/messages`` needs its API key, its template and the registered senders: rows
that change rarely but, read from the database every time, cost more than the message's own
insert. Template versions never change once stored, so they are kept (up to a bound) for good;
the rest is kept for ``NOTIFIER_LOOKUP_TTL_SECONDS`` (0 turns this off). A write made through
this process (a template saved, centres loaded) forgets the affected entries at once; one made
by another process (``notifier centers load``, a revoked key) is seen within the TTL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from cachetools import LRUCache, TTLCache

T = TypeVar("T")

MAX_ENTRIES = 1024


class Lookups:
    """Per-process caches: one short-lived, one for immutable values. Safe across threads."""

    def __init__(self, ttl_seconds: float, timer: Callable[[], float] = time.monotonic) -> None:
        self.ttl_seconds = ttl_seconds
        self._lock = threading.Lock()
        self._fresh: TTLCache[Hashable, Any] | None = (
            TTLCache(MAX_ENTRIES, ttl_seconds, timer=timer) if ttl_seconds > 0 else None
        )
        self._immutable: LRUCache[Hashable, Any] = LRUCache(MAX_ENTRIES)
        self._generation = 0  # moved by ``forget``: a read begun before it is not kept

    def recent(self, key: Hashable, load: Callable[[], T]) -> T:
        """``load()``'s answer, reused for up to the TTL; a None answer is never kept."""
        return self._through(self._fresh, key, load)

    def forever(self, key: Hashable, load: Callable[[], T]) -> T:
        """``load()``'s answer for a value that cannot change once it exists (None is not kept)."""
        return self._through(self._immutable, key, load)

    def forget(self, predicate: Callable[[Hashable], bool] | None = None) -> None:
        """Drop the short-lived entries ``predicate`` picks (all of them when None)."""
        if self._fresh is None:
            return
        with self._lock:
            self._generation += 1
            for key in [k for k in self._fresh if predicate is None or predicate(k)]:
                self._fresh.pop(key, None)

    def _through(
        self,
        cache: TTLCache[Hashable, Any] | LRUCache[Hashable, Any] | None,
        key: Hashable,
        load: Callable[[], T],
    ) -> T:
        if cache is None:
            return load()
        with self._lock:
            found = cache.get(key, _MISSING)
            generation = self._generation
        if found is not _MISSING:
            return found  # type: ignore[no-any-return]
        value = load()  # outside the lock: a slow query must not hold up other threads
        if value is not None:
            with self._lock:
                if generation == self._generation:  # nothing was forgotten while it was read
                    cache[key] = value
        return value


_MISSING = object()
