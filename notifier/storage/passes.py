"""Bounded periodic passes of the scheduler (retention, clean-ups): a few batches per tick, then rest.

A pass runs ``step`` (which handles at most ``batch`` rows, in its own transaction, and says
how many) up to ``batches`` times in a tick. While the steps come back full there is more to
do and the next tick goes on; once one comes back short, the pass rests ``rest_seconds`` (in
this process), so a quiet system does not scan on every tick.
"""

from __future__ import annotations

from collections.abc import Callable

from notifier.context import Context


def bounded_pass(
    ctx: Context, name: str, step: Callable[[], int], *, batch: int, batches: int, rest_seconds: float
) -> tuple[int, bool] | None:
    """Run the pass ``name`` if it is due: how many rows it handled, and whether more wait."""
    if not ctx.pass_due(name):
        return None
    done = 0
    full = False
    for _ in range(batches):
        handled = step()
        done += handled
        full = handled >= batch
        if not full:
            break
    if not full:
        ctx.rest(name, rest_seconds)
    return done, full
