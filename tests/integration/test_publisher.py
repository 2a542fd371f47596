"""The API's publisher: committed ids are queued from a background thread, coalesced, never lost.

services/publisher.py publishes the first id after a quiet spell at once and gathers the ids
that follow for at most an interval; a failed publish is logged (the scheduler's sweep queues
what no worker took); at exit, and across a fork, every waiting id is published once.
"""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import redis

from notifier import bootstrap, create_app
from notifier.bootstrap import load_shipped_data, wire
from notifier.config import Settings
from notifier.keys import repository as keys
from notifier.messages.publisher import Publisher
from notifier.tasks import BROKER_SOCKET_TIMEOUT_SECONDS
from tests.conftest import ROOT, wait_for
from tests.factories import message_body


class Recorder:
    """An enqueue that keeps every call, as the publisher makes them."""

    def __init__(self, fail_first: int = 0) -> None:
        self.calls: list[tuple[str, list[str]]] = []
        self.fail_first = fail_first
        self.lock = threading.Lock()

    def __call__(self, lane: str, ids: list[str]) -> None:
        with self.lock:
            if self.fail_first:
                self.fail_first -= 1
                raise ConnectionError("broker unreachable")
            self.calls.append((lane, list(ids)))

    def ids(self) -> list[str]:
        with self.lock:
            return [i for _lane, batch in self.calls for i in batch]


def test_the_first_id_after_a_quiet_spell_is_published_at_once_and_the_next_wait() -> None:
    rung = Recorder()
    publisher = Publisher(rung, interval=60.0)
    publisher("transactional", ["a"])
    wait_for(lambda: rung.ids() == ["a"], timeout=5, what="the first id, without waiting an interval")
    publisher("transactional", ["b"])
    publisher("bulk", ["c"])
    assert rung.ids() == ["a"]  # a publish was just made: these wait for the interval
    publisher.flush()
    assert rung.calls == [("transactional", ["a"]), ("transactional", ["b"]), ("bulk", ["c"])]


def test_ids_rung_while_a_publish_is_under_way_share_the_next_one_and_each_is_queued_once() -> None:
    rung = Recorder()
    publishing, release = threading.Event(), threading.Event()
    slow_first = rung.__call__

    def enqueue(lane, ids):
        if ids == ["first"]:
            publishing.set()
            release.wait(10)  # a publish under way: every ring meanwhile waits for the next one
        slow_first(lane, ids)

    publisher = Publisher(enqueue, interval=0.0)
    publisher("transactional", ["first"])
    # The thread has taken "first" and is publishing it (on a busy machine it may start late).
    wait_for(publishing.is_set, timeout=10, what="the first publish under way")
    ids = [f"m{i}" for i in range(40)]
    threads = [threading.Thread(target=publisher, args=("transactional", [i])) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    release.set()
    wait_for(lambda: len(rung.ids()) == 41, timeout=10, what="the gathered ids")
    assert rung.calls[0] == ("transactional", ["first"])
    assert len(rung.calls) == 2 and sorted(rung.calls[1][1]) == sorted(ids)  # forty requests, one publish
    publisher.close()


def test_a_failed_publish_is_logged_and_later_ids_still_go_out(caplog) -> None:
    rung = Recorder(fail_first=1)
    publisher = Publisher(rung, interval=0.0)
    with caplog.at_level(logging.ERROR, logger="notifier.publisher"):
        publisher("transactional", ["lost-to-the-broker"])
        wait_for(lambda: any(r.getMessage() == "could not queue messages" for r in caplog.records), timeout=5)
        publisher("transactional", ["next"])
        wait_for(lambda: rung.ids() == ["next"], timeout=5)
    record = next(r for r in caplog.records if r.getMessage() == "could not queue messages")
    assert record.lane == "transactional" and record.count == 1  # type: ignore[attr-defined]


def test_the_thread_stops_when_idle_and_a_later_ring_starts_it_again() -> None:
    rung = Recorder()
    publisher = Publisher(rung, interval=0.0, idle_stop=0.2)
    publisher("transactional", ["a"])
    wait_for(lambda: rung.ids() == ["a"], timeout=5)
    wait_for(lambda: not publisher.running, timeout=5, what="the idle thread to stop")
    publisher("transactional", ["b"])
    wait_for(lambda: rung.ids() == ["a", "b"], timeout=5)
    publisher.close()
    assert not publisher.running


def test_waiting_ids_are_published_once_at_exit_and_a_forked_child_publishes_only_its_own(
    tmp_path: Path,
) -> None:
    """A child forked with ids waiting leaves them to its parent; each process flushes at exit."""
    out = tmp_path / "rung.txt"
    script = textwrap.dedent(
        f"""
        import os, time
        from notifier.messages.publisher import Publisher

        def enqueue(lane, ids):
            with open({str(out)!r}, "a") as f:
                f.write(" ".join([str(os.getpid()), lane, *ids]) + "\\n")

        publisher = Publisher(enqueue, interval=60.0)
        publisher("transactional", ["a"])
        deadline = time.monotonic() + 10
        while not os.path.exists({str(out)!r}) and time.monotonic() < deadline:
            time.sleep(0.01)
        publisher("transactional", ["b"])  # waits for the interval: published at exit
        child = os.fork()
        if child == 0:
            publisher("bulk", ["c"])  # its thread may be publishing it as the child exits
        else:
            os.waitpid(child, 0)
        print(os.getpid())
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    parent, child = done.stdout.split()[-1], done.stdout.split()[0]
    lines = sorted(out.read_text().splitlines())
    assert lines == sorted([f"{parent} transactional a", f"{parent} transactional b", f"{child} bulk c"])


def test_an_accepted_message_reaches_the_broker_through_the_doorbell(client, auth, settings) -> None:
    response = client.post("/v1/messages", json=message_body(), headers=auth)
    assert response.status_code == 202
    broker = redis.Redis.from_url(settings.broker_url)
    key = f"{settings.broker_key_prefix}transactional"
    try:
        raw = wait_for(lambda: broker.lrange(key, 0, -1), timeout=10, what="the task on the broker")
    finally:
        broker.delete(key)
        broker.close()
    assert len(raw) == 1 and response.json["id"].encode() in raw[0]


class SilentBroker:
    """A TCP server that accepts connections and never answers: a broker that hangs."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            self.held.append(connection)

    def close(self) -> None:
        self.server.close()
        for connection in self.held:
            connection.close()


def test_a_broker_that_never_answers_holds_up_neither_the_request_nor_the_doorbell_for_good(
    env, clean_db, caplog
) -> None:
    broker = SilentBroker()
    try:
        settings = Settings.from_env({**env, "NOTIFIER_BROKER_URL": f"redis://127.0.0.1:{broker.port}/0"})
        ctx = wire(bootstrap.build(settings, engine=clean_db))
        load_shipped_data(ctx)
        app = create_app(ctx=ctx)
        app.extensions["celery"].conf.task_publish_retry = False  # one attempt: the test waits for it
        with clean_db.begin() as conn:
            key = keys.create(conn, "booking-system", ("send",), ctx.clock())
        with caplog.at_level(logging.ERROR, logger="notifier.publisher"):
            started = time.monotonic()
            response = app.test_client().post(
                "/v1/messages", json=message_body(), headers={"Authorization": f"Bearer {key}"}
            )
            answered = time.monotonic() - started
            assert response.status_code == 202
            assert answered < BROKER_SOCKET_TIMEOUT_SECONDS  # the request did not wait for the broker
            # The publish gives up at the socket timeout, and the publisher says so.
            wait_for(
                lambda: any(r.getMessage() == "could not queue messages" for r in caplog.records),
                timeout=BROKER_SOCKET_TIMEOUT_SECONDS * 3,
                what="the publish to time out",
            )
    finally:
        broker.close()
