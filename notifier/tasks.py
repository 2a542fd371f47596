"""Celery wiring: the app, the two lanes, and thin tasks that call services.

Tasks take ids, never objects. They acknowledge late, so a task whose worker dies is
delivered again; the claim in ``deliver`` makes that redelivery harmless. Nothing waits in
the broker for long: future sends wait in the database (see ``services.scheduler``).
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from celery import Celery, signals
from kombu.entity import Queue

from notifier import bootstrap
from notifier.config import BULK_QUEUE, TRANSACTIONAL_QUEUE, Settings

log = logging.getLogger("notifier.tasks")

SEND_MESSAGE = "notifier.send_message"
SEND_BATCH = "notifier.send_batch"
SEND_MESSAGES = "notifier.send_messages"
QUEUES = (TRANSACTIONAL_QUEUE, BULK_QUEUE)
# Bulk messages per task: enough that the broker's cost per task (delivery and acknowledgement,
# some milliseconds of a bulk worker's busy CPU) is spread thin, few enough that the last tasks
# of a campaign spread over every worker thread instead of a few threads sending 100 each.
BULK_CHUNK = 50
# Transactional messages accepted together (see services.intake) share a task, a few at most:
# one worker thread sends them one after another, so a large share would delay the last ones.
TRANSACTIONAL_CHUNK = 8
BROKER_SOCKET_TIMEOUT_SECONDS = 10.0


def create_celery(settings: Settings | None = None) -> Celery:
    """Build the Celery app for ``settings``; connects to nothing until used."""
    settings = settings or Settings.from_env()
    app = Celery("notifier", broker=settings.broker_url, set_as_current=False)
    transport_options: dict[str, Any] = {}
    if settings.broker_url.startswith(("redis", "rediss")):
        # Longer than any retry backoff, so an unacknowledged task is not handed out twice.
        transport_options["visibility_timeout"] = 3600
        # A broker that accepts connections but stops answering fails a publish in seconds
        # instead of holding its thread forever (kombu sets no timeout); longer than the
        # workers' one-second BRPOP.
        transport_options["socket_timeout"] = BROKER_SOCKET_TIMEOUT_SECONDS
        transport_options["socket_connect_timeout"] = BROKER_SOCKET_TIMEOUT_SECONDS
    if settings.broker_key_prefix:
        transport_options["global_keyprefix"] = settings.broker_key_prefix
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        task_default_queue=TRANSACTIONAL_QUEUE,
        task_queues=[Queue(name) for name in QUEUES],
        broker_transport_options=transport_options,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        task_send_sent_event=False,
    )
    app.conf["notifier_settings"] = settings

    @app.task(name=SEND_MESSAGE)
    def send_message(message_id: str) -> str:
        from notifier.messages.sending import deliver

        return deliver(worker_context(app), message_id).status

    @app.task(name=SEND_MESSAGES)
    def send_messages(message_ids: list[str]) -> list[str]:
        """Each message of a share on its own: one that fails does not hold up the others."""
        from notifier.messages.sending import deliver

        ctx = worker_context(app)
        statuses, first_error = [], None
        for message_id in message_ids:
            try:
                statuses.append(deliver(ctx, message_id).status)
            except Exception as exc:  # the scheduler recovers this one; go on with the rest
                log.exception("delivery failed", extra={"message_id": message_id})
                first_error = first_error or exc
        if first_error is not None:
            raise first_error
        return statuses

    @app.task(name=SEND_BATCH)
    def send_batch(message_ids: list[str]) -> int:
        from notifier.messages.send_many import deliver_bulk

        return deliver_bulk(worker_context(app), message_ids)

    return app


def bulk_chunk(settings: Settings) -> int:
    """Bulk messages per task: one send-many call's worth when SOLAPI leads the default order."""
    configured = [name for name in ("solapi", "twilio") if getattr(settings, name) is not None]
    leads = settings.sms_routes.order(None, configured)[:1] == ["solapi"]
    return settings.solapi_batch_size if leads else BULK_CHUNK


def make_publish(app: Celery) -> Callable[[str, list[str]], None]:
    """Publish ids on a lane: chunks for bulk, small shares for transactional messages."""

    chunk = bulk_chunk(app.conf["notifier_settings"])

    def enqueue(lane: str, ids: list[str]) -> None:
        if lane == BULK_QUEUE:
            for start in range(0, len(ids), chunk):
                app.send_task(SEND_BATCH, args=[ids[start : start + chunk]], queue=lane)
            return
        for start in range(0, len(ids), TRANSACTIONAL_CHUNK):
            share = ids[start : start + TRANSACTIONAL_CHUNK]
            if len(share) == 1:
                app.send_task(SEND_MESSAGE, args=share, queue=lane)
            else:
                app.send_task(SEND_MESSAGES, args=[share], queue=lane)

    return enqueue


def worker_context(app: Celery) -> bootstrap.Context:
    """The context of this worker process: built once, when the worker starts (``warm_up``).

    Built in the process that runs the tasks, after any fork. The lock makes the threads of a
    worker that receive their first tasks together wait for one context instead of each
    building its own.
    """
    with _building:
        return _context_for(app)


_building = threading.Lock()


@functools.cache
def _context_for(app: Celery) -> bootstrap.Context:
    from notifier.bootstrap import wire

    ctx = bootstrap.build(app.conf["notifier_settings"])
    ctx.publish = make_publish(app)
    wire(ctx)
    return ctx


def warm_up(app: Celery) -> None:
    """Build the context and open a database connection before the first task arrives.

    Building the context (templates, channels, claim checks) takes about a second; without
    this the first message after a worker starts, a reminder as likely as any, would wait for it.
    A failure is only logged: the first task builds the context then, as it would have anyway.
    """
    started = time.monotonic()
    try:
        ctx = worker_context(app)
        with ctx.engine.connect():
            pass
    except Exception:
        log.exception("worker warm-up failed; the first task will build the context")
        return
    log.info("worker warmed up", extra={"seconds": round(time.monotonic() - started, 2)})


def warm_up_on_start(app: Celery) -> None:
    """Warm each process that runs tasks (a threads or solo worker, each prefork child).

    In the background: a prefork child that has not reported itself up within a few seconds is
    killed by its parent, and a slow database must not do that. A task that arrives meanwhile
    waits for the context being built (``worker_context``'s lock).
    """

    def in_background() -> None:
        threading.Thread(target=warm_up, args=(app,), name="warm-up", daemon=True).start()

    def process_started(**_: Any) -> None:  # in each prefork child, and in a solo worker
        in_background()

    def worker_ready(sender: Any = None, **_: Any) -> None:  # threads: the tasks run right here
        from celery.concurrency.thread import TaskPool as ThreadPool

        if sender is not None and sender.app is app and isinstance(sender.pool, ThreadPool):
            in_background()

    signals.worker_process_init.connect(process_started, weak=False)
    signals.worker_ready.connect(worker_ready, weak=False)
