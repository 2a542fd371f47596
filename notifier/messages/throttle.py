"""A rate limit per sender shared by every worker: a reservation bucket (GCRA) in Redis.

Each send reserves the next free slot on every bucket it is subject to (provider + sender,
and the campaign's own cap if it has one) in one Lua script, using Redis's clock, so any
number of worker processes and threads together never exceed the rate. The caller sleeps
until its slot; a slot further away than ``MAX_WAIT_SECONDS`` is not taken: the message goes
back to ``scheduled`` for about then (not counted as a failed attempt, see
``outcomes``) instead of pinning a worker thread, and the scheduler queues it again.

A provider's "too many requests" (HTTP 429, Twilio 20429/14107, SMTP 421/450/451) halves the
bucket's rate for ``COOLDOWN_SECONDS``; another 429 in that window halves it again (at most
``MAX_SLOWDOWN_STEPS`` times). The message itself is retried with the usual backoff.

Every message from a sender counts, and transactional ones go first. They reserve their
slots as far as ``max_wait`` ahead (``reserve``); bulk messages take a slot only when the
bucket is booked no further than ``BULK_AHEAD_SECONDS`` ahead (``take_spare``) and otherwise
wait for that. So a campaign never holds more than that much of the sender's time, and a
reminder waits at most ``BULK_AHEAD_SECONDS`` plus one interval behind it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import redis

from notifier.errors import ProviderError

log = logging.getLogger("notifier.rate_limit")

MAX_WAIT_SECONDS = 5.0
# How far ahead a bulk send may book a bucket: the most a transactional send waits behind bulk.
BULK_AHEAD_SECONDS = 0.25
# The shortest sleep of a bulk send waiting for the bucket to come within reach.
BULK_POLL_SECONDS = 0.005
COOLDOWN_SECONDS = 10.0
MAX_SLOWDOWN_STEPS = 4
# Several 429s from one burst count once: a further halving needs this much time in between.
SLOWDOWN_DEBOUNCE_SECONDS = 1.0
KEY_TTL_MS = 60_000
RATE_LIMITED_CODES = frozenset({"20429", "14107", "http_429", "smtp_421", "smtp_450", "smtp_451"})

# KEYS: one bucket key, then its slowdown key, per bucket. ARGV: max wait (us), how many slots,
# then one rate per bucket. Reserves consecutive slots, each taking one interval of every
# bucket, and returns the wait of each in microseconds; the list ends early, with a negative
# wait, at the first slot too far away to take.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local max_wait = tonumber(ARGV[1])
local count = tonumber(ARGV[2])
local n = #KEYS / 2
local intervals = {}
local tats = {}
for i = 1, n do
  local rate = tonumber(ARGV[i + 2])
  local steps = tonumber(redis.call('GET', KEYS[n + i]) or '0')
  intervals[i] = 1000000 / (rate / (2 ^ steps))
  tats[i] = tonumber(redis.call('GET', KEYS[i]) or '0')
end
local waits = {}
for k = 1, count do
  local slot = now
  for i = 1, n do
    if tats[i] > slot then slot = tats[i] end
  end
  if slot - now > max_wait then
    waits[k] = -(slot - now)
    break
  end
  for i = 1, n do tats[i] = slot + intervals[i] end
  waits[k] = slot - now
end
if #waits > 0 and waits[1] >= 0 then
  for i = 1, n do
    redis.call('SET', KEYS[i], string.format('%.0f', tats[i]), 'PX', %(ttl)d)
  end
end
return waits
""".replace("%(ttl)d", str(KEY_TTL_MS))

# KEYS[1]: slowdown key. ARGV: cooldown ms, debounce ms, max steps. Returns the steps now.
_SLOW_DOWN = """
local ttl = redis.call('PTTL', KEYS[1])
local steps = tonumber(redis.call('GET', KEYS[1]) or '0')
if ttl > tonumber(ARGV[1]) - tonumber(ARGV[2]) then return steps end
if steps < tonumber(ARGV[3]) then steps = steps + 1 end
redis.call('SET', KEYS[1], steps, 'PX', ARGV[1])
return steps
"""


@dataclass(frozen=True)
class Bucket:
    """One rate a send is subject to: ``name`` identifies it across processes."""

    name: str
    per_second: float


class Throttled(ProviderError):
    """No send slot within the bounded wait: the message waits in the database instead."""

    def __init__(self, wait: float) -> None:
        super().__init__(True, "throttled", f"rate limit: next slot in {wait:.1f}s", "rate_limit")
        self.wait = wait


def is_rate_limited(error: ProviderError) -> bool:
    """Tell whether the provider said we are sending too fast."""
    return error.code in RATE_LIMITED_CODES or error.status_code == 429


class RedisThrottle:
    """The ``ctx.throttle`` hook: ``reserve`` slots for claimed transactional messages (or
    ``take_spare`` one for a bulk message), ``wait_until`` each before sending it, and tell
    ``rate_limited`` about a provider's 429. Calling it with one message does the first two
    for that message, as a transactional send."""

    def __init__(
        self,
        client: redis.Redis,
        prefix: str,
        buckets_for: Callable[[Any], Sequence[Bucket]],
        *,
        max_wait: float = MAX_WAIT_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.buckets_for = buckets_for
        self.max_wait = max_wait
        self.sleep = sleep
        self._reserve = client.register_script(_RESERVE)
        self._slow_down = client.register_script(_SLOW_DOWN)

    def _keys(self, bucket: Bucket) -> tuple[str, str]:
        base = f"{self.prefix}ratelimit:{bucket.name}"
        return base, base + ":slowdown"

    def __call__(self, row: Any) -> float:
        """Wait for a send slot on every bucket of ``row``; return how long we waited."""
        [slot] = self.reserve([row])
        if isinstance(slot, Throttled):
            raise slot
        return self.wait_until(slot)

    def reserve(self, rows: Sequence[Any], *, ahead: float | None = None) -> list[float | Throttled]:
        """Reserve a send slot for each row, in order: when (``time.monotonic()``) it may be sent.

        One Redis call per distinct set of buckets among ``rows``. A row whose slot would be
        more than ``ahead`` (default ``max_wait``) away gets ``Throttled`` (its ``wait``: how far
        off the free slot is) instead, and so does every later row with the same buckets.
        Slots reserved together still lie at most ``max_wait`` ahead, so a provider's 429
        (``rate_limited``) slows every send within that much time.
        """
        horizon = self.max_wait if ahead is None else ahead
        groups: dict[tuple[Bucket, ...], list[int]] = {}
        for index, row in enumerate(rows):
            buckets = tuple(b for b in self.buckets_for(row) if b.per_second > 0)
            groups.setdefault(buckets, []).append(index)
        slots: list[float | Throttled] = [time.monotonic()] * len(rows)
        for buckets, indexes in groups.items():
            if not buckets:
                continue
            keys = [self._keys(b) for b in buckets]
            waits = [
                int(w)
                for w in self._reserve(
                    keys=[k for k, _ in keys] + [s for _, s in keys],
                    args=[int(horizon * 1_000_000), len(indexes), *(b.per_second for b in buckets)],
                )
            ]
            reserved_at = time.monotonic()  # after the answer: never earlier than the slot
            for position, index in enumerate(indexes):
                if position < len(waits) and waits[position] >= 0:
                    slots[index] = reserved_at + waits[position] / 1_000_000
                else:
                    slots[index] = Throttled(-waits[-1] / 1_000_000)
        return slots

    def take_spare(self, row: Any) -> float | Throttled:
        """Reserve a slot for a bulk send, only one close to now: transactional sends go first.

        While the bucket is booked further than ``BULK_AHEAD_SECONDS`` ahead (transactional
        sends, or other bulk workers), sleep until it is not and try again; give ``Throttled``
        at once when the free slot lies more than ``max_wait`` past the first try.
        """
        deadline = time.monotonic() + self.max_wait
        while True:
            [slot] = self.reserve([row], ahead=BULK_AHEAD_SECONDS)
            if not isinstance(slot, Throttled):
                return slot
            now = time.monotonic()
            if now + slot.wait > deadline:
                return slot
            self.sleep(max(BULK_POLL_SECONDS, slot.wait - BULK_AHEAD_SECONDS))

    def wait_until(self, moment: float) -> float:
        """Sleep until ``moment`` (``time.monotonic()``), a reserved slot; return how long that was."""
        wait = max(0.0, moment - time.monotonic())
        if wait:
            self.sleep(wait)
        return wait

    def rate_limited(self, row: Any) -> int:
        """Halve the rate of ``row``'s buckets for a while; return the slowdown steps now."""
        steps = 0
        for bucket in self.buckets_for(row):
            _, slowdown = self._keys(bucket)
            steps = max(
                steps,
                int(
                    self._slow_down(
                        keys=[slowdown],
                        args=[
                            int(COOLDOWN_SECONDS * 1000),
                            int(SLOWDOWN_DEBOUNCE_SECONDS * 1000),
                            MAX_SLOWDOWN_STEPS,
                        ],
                    )
                ),
            )
        log.warning("provider rate limit hit; slowing down", extra={"steps": steps})
        return steps

    def slowdown_steps(self, bucket: Bucket) -> int:
        """How many times ``bucket``'s rate is halved right now."""
        raw = self.client.get(self._keys(bucket)[1])
        return int(raw) if raw is not None else 0
