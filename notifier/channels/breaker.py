"""The circuit breaker's shared state in Redis: one per provider, the same for every worker.

The rules are pure (``domain.breaker``); this keeps what they read. Per provider:

- ``{prefix}breaker:{name}``: a hash with ``in_row`` (retryable failures since the last success)
  and ``opened_at`` (when it left rotation; absent while in rotation);
- ``{prefix}breaker:{name}:s:{second}``: a hash of ``calls`` and ``failed`` for one second,
  expiring after the window, so the "half of the last 30 s" rule reads at most one key a second;
- ``{prefix}breaker:{name}:probe``: taken (SET NX, expiring after a cool-down) by the one
  caller that tries the provider once its cool-down has passed.

Counting is approximate under concurrency (two workers may both see the fifth failure); the
decisions it feeds are not: a provider leaves rotation, and comes back after one success.
If Redis cannot be reached, every provider counts as in rotation: the breaker only ever
takes providers out, never stops sending.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import redis

from notifier.domain.breaker import BreakerRules, Circuit, Tally, circuit, trips

log = logging.getLogger("notifier.provider")


class RedisBreaker:
    """``available`` before a call, ``succeeded`` or ``failed`` after it."""

    def __init__(
        self, client: redis.Redis, prefix: str, rules: BreakerRules, clock: Callable[[], float]
    ) -> None:
        self.redis = client
        self.prefix = prefix
        self.rules = rules
        self.clock = clock

    def _key(self, provider: str) -> str:
        return f"{self.prefix}breaker:{provider}"

    def state(self, provider: str) -> Circuit:
        """The provider's state now, read without taking the probe."""
        raw = self.redis.hget(self._key(provider), "opened_at")
        return circuit(self.rules, float(raw) if raw is not None else None, self.clock())

    def available(self, provider: str) -> bool:
        """True if a call may go to ``provider`` now (in rotation, or this caller is its probe)."""
        try:
            state = self.state(provider)
            if state is Circuit.PROBING:
                lease_ms = max(1, int(self.rules.cooldown_seconds * 1000))
                return bool(self.redis.set(f"{self._key(provider)}:probe", "1", nx=True, px=lease_ms))
        except redis.RedisError:
            log.warning("circuit breaker state unreadable; provider kept in rotation", exc_info=True)
            return True
        return state is Circuit.CLOSED

    def succeeded(self, provider: str, calls: int = 1) -> None:
        """The provider answered: count the calls, and put it back in rotation if it was out."""
        try:
            key = self._key(provider)
            with self.redis.pipeline(transaction=False) as pipe:
                self._tally(pipe, provider, calls, 0)
                pipe.hdel(key, "opened_at")
                pipe.hset(key, "in_row", 0)
                pipe.delete(f"{key}:probe")
                pipe.execute()
        except redis.RedisError:
            log.warning("could not record a provider's success", exc_info=True)

    def failed(self, provider: str) -> bool:
        """The provider failed with a retryable error; return True if it is (now) out of rotation."""
        now = self.clock()
        key = self._key(provider)
        try:
            with self.redis.pipeline(transaction=False) as pipe:
                self._tally(pipe, provider, 1, 1)
                pipe.hincrby(key, "in_row", 1)
                pipe.hget(key, "opened_at")
                in_row, opened_at = pipe.execute()[-2:]
            seconds = range(int(now - self.rules.window_seconds) + 1, int(now) + 1)
            with self.redis.pipeline(transaction=False) as pipe:
                for second in seconds:
                    pipe.hmget(f"{key}:s:{second}", "calls", "failed")
                tallies = [
                    Tally(float(second), int(calls or 0), int(failed or 0))
                    for second, (calls, failed) in zip(seconds, pipe.execute(), strict=True)
                ]
            if opened_at is not None and circuit(self.rules, float(opened_at), now) is Circuit.OPEN:
                return True
            # A failed probe (or a trip) starts a new cool-down.
            if opened_at is not None or trips(self.rules, int(in_row), tallies, now):
                with self.redis.pipeline(transaction=False) as pipe:
                    pipe.hset(key, "opened_at", repr(now))
                    pipe.delete(f"{key}:probe")  # the next cool-down's end brings the next probe
                    pipe.execute()
                log.warning(
                    "provider out of rotation",
                    extra={
                        "provider": provider,
                        "in_row": int(in_row),
                        "cooldown": self.rules.cooldown_seconds,
                    },
                )
                return True
        except redis.RedisError:
            log.warning("could not record a provider's failure", exc_info=True)
        return False

    def _tally(self, pipe: redis.client.Pipeline, provider: str, calls: int, failed: int) -> None:
        second = f"{self._key(provider)}:s:{int(self.clock())}"
        pipe.hincrby(second, "calls", calls)
        if failed:
            pipe.hincrby(second, "failed", failed)
        pipe.expire(second, int(self.rules.window_seconds) + 2)
