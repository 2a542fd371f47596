"""Group commit for accepted messages: one transaction and one publisher for many requests.

Storing a message costs database round trips and ringing the queue a broker round trip, each
more than validating and rendering the message. So the requests of one API process share them
(group commit, leader and followers): a request that finds nobody writing writes its own row at
once, in its own thread; requests that arrive while a write is under way wait, and the next of
them writes all of them in one transaction and publishes once per lane (in the API, ``ctx.publish``
is the process's publisher, services/publisher.py, which publishes from its own thread). The rules
stay what they were: a 202 is answered only after the row is committed, and an id is queued only
after its row is committed. Alone, a request pays nothing extra (a batch of one, one round trip
on PostgreSQL); batches form only when requests arrive faster than a write, which is exactly
when the saving matters.

A failed batch is written again one entry at a time, so one bad row fails only its own request.
Two requests in one batch with the same Idempotency-Key store one message: the later one is
answered from the first one's record, as if it had come after it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from notifier.context import Context
from notifier.domain.message_status import Status
from notifier.messages import repository as repo
from notifier.messages.publisher import publish

log = logging.getLogger("notifier.intake")

MAX_BATCH = 64
# How long a request waits for a write before giving up with an error. It gives up only while
# its row is still waiting, and takes it out, so a timed-out request has stored nothing.
WAIT_SECONDS = 30.0
GIVE_UP_SECONDS = 120.0  # even a request whose batch is being written stops waiting then
# How long a writer waits for requests of this process that are still being validated.
GATHER_SECONDS = 0.003


@dataclass
class Entry:
    """One accepted message waiting to be stored, and its request's answer."""

    row: Mapping[str, Any]
    now: datetime
    idempotency: Mapping[str, Any] | None = None
    detail: str | None = None  # the first history entry's (e.g. held for quiet hours)
    wake: threading.Event = field(default_factory=threading.Event)
    lead: bool = False  # set when this request is to write the waiting batch
    stored: bool | None = None  # False: another request with the same key was stored first
    error: BaseException | None = None


@dataclass
class _Arrival:
    arrived: bool = False


_arrival = threading.local()  # the current request's ``coming`` state, if any


class IntakeWriter:
    """The group commit of one process; every request thread calls ``store``."""

    def __init__(
        self, ctx: Context, max_batch: int = MAX_BATCH, gather_seconds: float = GATHER_SECONDS
    ) -> None:
        self.ctx = ctx
        self.max_batch = max_batch
        self.gather_seconds = gather_seconds
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._pending: list[Entry] = []
        self._writing = False
        self._coming = 0  # requests being validated and rendered in this process right now

    @contextmanager
    def coming(self) -> Iterator[None]:
        """Announce a request that will probably ``store`` soon, so a writer may wait for it."""
        with self._lock:
            self._coming += 1
        state = _Arrival()
        _arrival.state = state
        try:
            yield
        finally:
            _arrival.state = None
            if not state.arrived:  # refused or answered without storing: nobody should wait for it
                with self._lock:
                    self._coming -= 1
                    self._arrived.notify_all()

    def store(
        self,
        row: Mapping[str, Any],
        now: datetime,
        idempotency: Mapping[str, Any] | None,
        detail: str | None = None,
    ) -> bool:
        """Store one message (and its idempotency record); False if that key was stored already."""
        entry = Entry(row, now, idempotency, detail)
        state = getattr(_arrival, "state", None)
        with self._lock:
            if state is not None and not state.arrived:
                state.arrived = True
                self._coming -= 1
                self._arrived.notify_all()
            self._pending.append(entry)
            entry.lead = not self._writing
            self._writing = True
        if not entry.lead:
            self._wait(entry)
        if entry.lead:
            self._write_next_batch()
        if entry.error is not None:
            raise entry.error
        return bool(entry.stored)

    def _wait(self, entry: Entry) -> None:
        waited = 0.0
        while not entry.wake.wait(WAIT_SECONDS):
            waited += WAIT_SECONDS
            with self._lock:
                if entry in self._pending and not entry.lead:
                    self._pending.remove(entry)
                    raise TimeoutError("the database did not take the message in time; nothing was stored")
                if entry not in self._pending and waited >= GIVE_UP_SECONDS:
                    # Being written for minutes: answer, though the outcome is unknown. If the row
                    # was committed, the scheduler queues it; a retry with its Idempotency-Key is safe.
                    raise TimeoutError("the message may or may not have been stored; retry with its key")

    def _write_next_batch(self) -> None:
        """Write the oldest waiting requests (this one among them), hand over, then publish.

        If other requests are still being validated and rendered, wait a moment for them (like
        PostgreSQL's ``commit_delay``): on a busy machine this turns many small writes into one.
        The next writer may start as soon as this batch is committed; every request of the batch
        is answered whatever happens after that.
        """
        with self._lock:
            deadline = time.monotonic() + self.gather_seconds
            while self._coming > 0 and len(self._pending) < self.max_batch:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._arrived.wait(left)
            batch = self._pending[: self.max_batch]
            del self._pending[: len(batch)]
        self.write(batch, after_commit=self._hand_over)

    def write(self, batch: Sequence[Entry], after_commit: Callable[[], None] = lambda: None) -> None:
        """Store ``batch``, call ``after_commit``, queue what was stored; always answer every entry."""
        try:
            try:
                self.store_batch(batch)
            finally:
                after_commit()
            publish_stored(self.ctx, [e for e in batch if e.stored])
        finally:
            for entry in batch:
                if entry.stored is None and entry.error is None:
                    entry.error = RuntimeError("the write was interrupted; the message may not be stored")
                entry.wake.set()

    def _hand_over(self) -> None:
        with self._lock:
            if self._pending:
                self._pending[0].lead = True
                self._pending[0].wake.set()
            else:
                self._writing = False

    def store_batch(self, batch: Sequence[Entry]) -> None:
        """Store ``batch`` and set each entry's outcome: stored, a twin's key, or its own error."""
        try:
            if len(batch) == 1:  # one round trip on PostgreSQL
                entry = batch[0]
                outcomes = [
                    repo.insert_one(self.ctx.engine, entry.row, entry.now, entry.idempotency, entry.detail)
                ]
            else:
                with self.ctx.engine.begin() as conn:
                    outcomes = repo.insert_accepted(
                        conn, [(e.row, e.now, e.idempotency) for e in batch], [e.detail for e in batch]
                    )
        except Exception as exc:
            if len(batch) == 1:
                batch[0].error = exc
                return
            # Find the entry at fault: the others are stored on their own. (No exc_info: the
            # database's detail may quote a row, names included.)
            log.warning("a shared write failed; storing its messages one by one: %s", type(exc).__name__)
            for entry in batch:
                self._store_again(entry)
            return
        for entry, stored in zip(batch, outcomes, strict=True):
            entry.stored = stored

    def _store_again(self, entry: Entry) -> None:
        try:
            entry.stored = repo.insert_one(
                self.ctx.engine, entry.row, entry.now, entry.idempotency, entry.detail
            )
        except IntegrityError as exc:
            # The shared write may have committed although its answer was lost: then this row is
            # there already, and it is stored, not failed.
            if repo.unique_violation_on(exc, "messages") and repo.exists(self.ctx.engine, entry.row["id"]):
                entry.stored = True
            else:
                entry.error = exc
        except Exception as exc:
            entry.error = exc


def publish_stored(ctx: Context, entries: Sequence[Entry]) -> None:
    """Queue every stored message that is due now, one publisher per lane."""

    lanes: dict[str, list[str]] = {}
    for entry in entries:
        if entry.row["status"] == Status.QUEUED.value:
            lanes.setdefault(entry.row["lane"], []).append(entry.row["id"])
    for lane, ids in lanes.items():
        publish(ctx, lane, ids)


def writer(ctx: Context) -> IntakeWriter:
    """The context's writer, made on first use (a context copied with ``replace`` gets its own)."""
    with _making:
        if not isinstance(ctx.intake_writer, IntakeWriter) or ctx.intake_writer.ctx is not ctx:
            ctx.intake_writer = IntakeWriter(ctx)
        return ctx.intake_writer


_making = threading.Lock()
