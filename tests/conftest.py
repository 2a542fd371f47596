"""Shared fixtures: a throwaway PostgreSQL database per run, its own Redis database number
and key prefix, the local Twilio-compatible and SMTP servers, and real worker processes.

Environment (set by .ci/run; defaults suit this machine):
  NOTIFIER_TEST_PG_URL     server to create the run's database on
  NOTIFIER_TEST_REDIS_URL  Redis database for the broker (each run also uses its own key prefix)
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, text

from notifier import bootstrap, create_app
from notifier.bootstrap import load_shipped_data
from notifier.config import Settings
from notifier.keys import repository as keys
from notifier.storage.db import make_engine, upgrade
from notifier.tables import metadata
from tests.factories import APPOINTMENTS_NOW, FrozenClock
from tests.fakes.smtp_server import FakeSmtp
from tests.fakes.twilio_server import FakeTwilio
from tests.fakes.webhook_receiver import WebhookReceiver

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("NOTIFIER_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("NOTIFIER_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
RUN_ID = uuid.uuid4().hex[:10]


def wait_for(
    predicate: Callable[[], Any], timeout: float = 15.0, interval: float = 0.05, what: str = ""
) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}")
        time.sleep(interval)


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    name = f"notifier_test_{RUN_ID}"
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_URL.rsplit("/", 1)[0]
    url = f"{base}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", autouse=True)
def redis_keys_of_this_run() -> Iterator[None]:
    """Remove every broker key this run made (they all carry the run's prefix)."""
    yield
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=f"notifier-test-{RUN_ID}-*", count=1000):
        client.delete(key)
    client.close()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def clean_db(engine: Engine) -> Engine:
    tables = ", ".join(f'"{t.name}"' for t in reversed(metadata.sorted_tables))
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    return engine


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as fake:
        yield fake


@pytest.fixture
def smtp() -> Iterator[FakeSmtp]:
    with FakeSmtp() as fake:
        yield fake


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    """A booking system's webhook endpoint on loopback: what it received, and what it answers."""
    with WebhookReceiver() as server:
        yield server


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def api_port() -> int:
    return free_port()


@pytest.fixture
def env(
    database_url: str, twilio: FakeTwilio, smtp: FakeSmtp, tmp_path: Path, api_port: int
) -> dict[str, str]:
    """The environment a real deployment would have, pointed at this run's servers."""
    return {
        "NOTIFIER_DATABASE_URL": database_url,
        "NOTIFIER_BROKER_URL": REDIS_URL,
        "NOTIFIER_BROKER_KEY_PREFIX": f"notifier-test-{RUN_ID}-{uuid.uuid4().hex[:6]}:",
        "NOTIFIER_PUBLIC_URL": f"http://127.0.0.1:{api_port}",
        "NOTIFIER_SECRET_KEY": "test-secret",
        "NOTIFIER_DATA_DIR": str(tmp_path / "instance"),
        "TWILIO_ACCOUNT_SID": twilio.account_sid,
        "TWILIO_AUTH_TOKEN": twilio.auth_token,
        "TWILIO_FROM": "+82416615676",
        "NOTIFIER_TWILIO_BASE_URL": twilio.base_url,
        "NOTIFIER_SMTP_URL": smtp.url,
        "NOTIFIER_MAIL_FROM": "noreply@seosan.example.kr",
        "NOTIFIER_SCHEDULER_INTERVAL": "0.5",
        "NOTIFIER_RETRY_BASE_SECONDS": "0.2",
        "NOTIFIER_LOG_LEVEL": "INFO",
        "NOTIFIER_WEBHOOK_ALLOW_PRIVATE": "true",  # the fake receivers listen on 127.0.0.1
        # No quiet hours, so a test does not depend on the time of day it runs at; the tests of
        # quiet hours set them (an ``env`` fixture in their module) and pin the clock.
        "NOTIFIER_QUIET_HOURS": "00:00-00:00",
    }


@pytest.fixture
def settings(env: dict[str, str]) -> Settings:
    return Settings.from_env(env)


@pytest.fixture
def clock(ctx: bootstrap.Context) -> FrozenClock:
    """The service's clock stopped at ``APPOINTMENTS_NOW``, two days before ``booking()``'s start.

    A module that needs another moment defines its own ``clock``.
    """
    ctx.clock = FrozenClock(APPOINTMENTS_NOW)
    return ctx.clock


@pytest.fixture
def headers(make_key: Callable[..., str]) -> dict[str, str]:
    """The API headers of a booking system: a key with the ``appointments`` scope."""
    return {"Authorization": f"Bearer {make_key('appointments')}"}


@pytest.fixture
def ctx(settings: Settings, clean_db: Engine) -> bootstrap.Context:
    context = bootstrap.build(settings, engine=clean_db)
    load_shipped_data(context)
    from notifier.bootstrap import wire

    return wire(context)


@pytest.fixture
def sqlite_ctx(settings: Settings, tmp_path: Path) -> Iterator[bootstrap.Context]:
    """The service on the embedded SQLite database ``notifier dev`` uses, migrated and wired.

    A module re-runs tests on it by defining ``ctx`` as this fixture.
    """
    from notifier.bootstrap import wire

    engine = make_engine(f"sqlite:///{tmp_path / 'notifier.sqlite'}")
    assert engine.dialect.name == "sqlite"
    upgrade(engine)
    context = bootstrap.build(settings, engine=engine)
    load_shipped_data(context)
    yield wire(context)
    engine.dispose()


@pytest.fixture
def app(ctx: bootstrap.Context) -> Iterator[Flask]:
    app = create_app(ctx=ctx)
    yield app
    app.extensions["publisher"].close()  # its thread would otherwise idle on for half a minute


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def make_key(ctx: bootstrap.Context) -> Callable[..., str]:
    def make(*scopes: str, name: str = "booking-system", owner: str | None = None) -> str:
        with ctx.engine.begin() as conn:
            return keys.create(conn, name, scopes or ("send",), ctx.clock(), owner)

    return make


@pytest.fixture
def auth(make_key: Callable[..., str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_key('send')}"}


@pytest.fixture
def live_api(app: Flask, api_port: int) -> Iterator[str]:
    """Serve the app over real HTTP on the port NOTIFIER_PUBLIC_URL names (for callbacks)."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", api_port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{api_port}"
    server.shutdown()
    thread.join()


class Process:
    """A real notifier process (worker or scheduler) with its output in a file."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self.handle = log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "notifier", *args],
            env={**os.environ, **env},
            stdout=self.handle,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            start_new_session=True,
        )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the whole process group: no cleanup, like a crashed machine."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.handle.close()


@pytest.fixture
def processes(env: dict[str, str], tmp_path: Path) -> Iterator[Callable[..., Process]]:
    started: list[Process] = []

    def start(kind: str, *args: str, extra_env: dict[str, str] | None = None) -> Process:
        log = tmp_path / f"{kind}-{len(started)}.log"
        proc = Process([kind, *args], {**env, **(extra_env or {})}, log)
        started.append(proc)
        if kind == "worker":
            wait_for(
                lambda: "ready." in proc.output() or proc.proc.poll() is not None, 30, what="worker ready"
            )
            assert proc.proc.poll() is None, proc.output()
        return proc

    yield start
    for proc in started:
        proc.stop()
