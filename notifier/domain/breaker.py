"""The circuit breaker's rules: when a provider leaves rotation and when it is tried again.

Pure functions over what was recorded (the failures in a row, the recent calls) and the time
``now`` (seconds, from the caller's clock); the shared state lives in Redis
(``channels.breaker``). A provider *trips* after ``consecutive`` retryable failures in a row,
or when at least ``min_calls`` calls ended in the last ``window_seconds`` and at least
``ratio`` of them failed. A tripped provider is *open* (out of rotation) for
``cooldown_seconds``; then one caller at a time may *probe* it with a real message, and the
first success closes it again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


class Circuit(StrEnum):
    CLOSED = "closed"  # in rotation
    OPEN = "open"  # out of rotation until the cool-down ends
    PROBING = "probing"  # the cool-down ended: one call may try it


@dataclass(frozen=True)
class BreakerRules:
    consecutive: int = 5
    window_seconds: float = 30.0
    ratio: float = 0.5
    min_calls: int = 10
    cooldown_seconds: float = 30.0


@dataclass(frozen=True)
class Tally:
    """The calls that ended in one second starting at ``at``, and how many failed (retryable)."""

    at: float
    calls: int
    failed: int


def recent(rules: BreakerRules, tallies: Sequence[Tally], now: float) -> list[Tally]:
    """The tallies inside the window ending ``now``."""
    return [t for t in tallies if now - rules.window_seconds < t.at <= now]


def trips(rules: BreakerRules, failures_in_row: int, tallies: Sequence[Tally], now: float) -> bool:
    """Tell whether a provider should leave rotation after its latest failure."""
    if failures_in_row >= rules.consecutive:
        return True
    window = recent(rules, tallies, now)
    calls = sum(t.calls for t in window)
    failed = sum(t.failed for t in window)
    return calls >= rules.min_calls and failed >= rules.ratio * calls


def circuit(rules: BreakerRules, opened_at: float | None, now: float) -> Circuit:
    """The state of a provider that left rotation at ``opened_at`` (None: never, or put back)."""
    if opened_at is None:
        return Circuit.CLOSED
    if now - opened_at < rules.cooldown_seconds:
        return Circuit.OPEN
    return Circuit.PROBING
