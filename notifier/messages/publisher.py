"""The API's publisher: ids of committed messages are queued from one background thread.

Publishing a Celery task costs an API process more CPU than anything else a request does
(building the task message, kombu's client, a broker round trip: about a third of the
request). So a request thread only hands the ids of its committed messages to this process's
publisher and answers; the publisher's thread publishes them, one task per share of a lane
(``tasks.make_publish``). It publishes at most one round per ``interval``: the first id after a
quiet spell goes out at once, and ids that arrive while the last round is recent wait for the
next one and share its tasks. Under load that turns a task per request into a task per
interval and share; when idle it adds no delay.

Nothing can be lost by it. A message is committed, with status ``queued``, before its id
reaches the publisher; if a publish fails, or the process dies with ids still waiting, the
scheduler's sweep (``NOTIFIER_REQUEUE_AFTER_SECONDS``) queues every message that no worker
took, and a worker's claim makes a second delivery harmless. At a normal exit, what is waiting
is published if the broker answers within ``FLUSH_TIMEOUT_SECONDS``; otherwise the sweep
covers it. A broker that stops answering holds the thread only until its socket timeout
(``tasks.create_celery``). The thread is started on first use in the process that publishes (after
gunicorn's fork) and stops after ``IDLE_STOP_SECONDS`` with nothing to do. Only the API
publishes this way; workers and the scheduler publish in the task or tick that found the ids.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from notifier.context import Context

log = logging.getLogger("notifier.publisher")

# How often one process may publish a round of tasks (one task per lane and share of 8 ids).
# A task costs about 1 to 3 ms of CPU on a small machine; a message waits at most this long for
# its round, and only if another round was just published.
INTERVAL_SECONDS = 0.05
IDLE_STOP_SECONDS = 30.0  # with nothing to publish for this long the thread ends
FLUSH_TIMEOUT_SECONDS = 10.0  # how long an exiting process waits for the broker

Publish = Callable[[str, list[str]], None]


class Publisher:
    """Queue ids from a background thread, coalescing those that arrive close together."""

    def __init__(
        self, enqueue: Publish, interval: float = INTERVAL_SECONDS, idle_stop: float = IDLE_STOP_SECONDS
    ) -> None:
        self.enqueue = enqueue
        self.interval = interval
        self.idle_stop = idle_stop
        self._reset()
        _open.add(self)

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._pending: dict[str, list[str]] = {}
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._last_publish = float("-inf")
        self._publishing = False  # the thread holds ids it has not published yet

    def __call__(self, lane: str, ids: list[str]) -> None:
        """Queue ``ids`` on ``lane`` soon; returns at once."""
        if not ids:
            return
        with self._lock:
            first = not self._pending
            self._pending.setdefault(lane, []).extend(ids)
            if self._thread is None:
                thread = threading.Thread(target=self._run, name="notifier-publisher", daemon=True)
                thread.start()  # if this fails, the next call tries again
                self._thread = thread
            elif first:  # the thread waits for ids; later ones it finds when the interval is over
                self._changed.notify_all()

    @property
    def running(self) -> bool:
        """Whether the background thread is alive (it stops when idle and starts on the next call)."""
        with self._lock:
            return self._thread is not None

    def flush(self, timeout: float = FLUSH_TIMEOUT_SECONDS) -> None:
        """Publish whatever is waiting, and let a publish under way end, within ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._lock:
            pending, self._pending = self._pending, {}
        if pending:
            # In a thread of its own, so that a broker that does not answer cannot hold up exit.
            publisher = threading.Thread(target=self._publish, args=(pending,), daemon=True)
            publisher.start()
            publisher.join(timeout)
            if publisher.is_alive():
                log.warning("the broker did not take the waiting ids in time; the scheduler re-queues them")
        with self._lock:
            self._changed.wait_for(lambda: not self._publishing, max(0.0, deadline - time.monotonic()))

    def close(self) -> None:
        """Publish what is waiting and stop the thread (a later call starts it again)."""
        with self._lock:
            thread = self._thread
            self._stopping = thread is not None
            self._changed.notify_all()
        self.flush()
        if thread is not None:
            thread.join(FLUSH_TIMEOUT_SECONDS)

    def _run(self) -> None:
        while True:
            with self._lock:
                idle_until = time.monotonic() + self.idle_stop
                while not self._pending:
                    left = idle_until - time.monotonic()
                    if left <= 0 or self._stopping:
                        self._thread, self._stopping = None, False
                        return
                    self._changed.wait(left)
                # Let ids gather until an interval has passed since the last round.
                while (left := self._last_publish + self.interval - time.monotonic()) > 0:
                    self._changed.wait(left)
                if not self._pending:  # flush() took them meanwhile
                    continue
                pending, self._pending = self._pending, {}
                self._last_publish = time.monotonic()
                self._publishing = True
            try:
                self._publish(pending)
            finally:
                with self._lock:
                    self._publishing = False
                    self._changed.notify_all()

    def _publish(self, pending: dict[str, list[str]]) -> None:
        for lane, ids in pending.items():
            try:
                self.enqueue(lane, ids)
            except Exception:  # the broker is down: the scheduler's sweep queues them later
                log.exception("could not queue messages", extra={"lane": lane, "count": len(ids)})


# Process-wide by nature: waiting ids must be published when the interpreter exits, and a
# forked child must not publish its parent's. The set holds doorbells weakly, so an app that
# is gone (a test's) is not kept alive by it.
_open: weakref.WeakSet[Publisher] = weakref.WeakSet()


@atexit.register
def _flush_all() -> None:
    for publisher in list(_open):
        publisher.flush()


def _reset_in_child() -> None:
    # A forked child has its parent's waiting ids (the parent publishes them) and lock, but
    # not its thread; it starts empty, with a lock nobody holds.
    for publisher in list(_open):
        publisher._reset()


os.register_at_fork(after_in_child=_reset_in_child)


def publish(ctx: Context, lane: str, ids: list[str]) -> None:
    """Tell the workers that messages are waiting. Losing this is safe: the scheduler retries."""
    try:
        ctx.publish(lane, ids)
    except Exception:  # the broker is down; the scheduler's sweep will queue them again
        log.exception("could not queue messages", extra={"lane": lane, "count": len(ids)})
