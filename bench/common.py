"""What the benchmarks share: a throwaway database and key prefix, the notifier command, ports."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import redis
from sqlalchemy import Engine

from notifier.cli.processes import demo_data
from notifier.storage.db import make_engine, upgrade

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
APPOINTMENT_DATA = demo_data()  # the same sample appointment `notifier dev` prints


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def percentile(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list, in the list's unit."""
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def run_notifier(env: dict[str, str], *args: str) -> str:
    """Run one ``notifier`` command to completion; stop the benchmark if it fails."""
    done = subprocess.run(
        [sys.executable, "-m", "notifier", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise SystemExit(f"notifier {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def healthy(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection(HOST, port, timeout=1)
        conn.request("GET", "/healthz")
        return conn.getresponse().status == 200
    except OSError:
        return False


def clear_redis(redis_url: str, prefix: str) -> None:
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(match=f"{prefix}*", count=1000):
        client.unlink(key)
    client.close()


@contextmanager
def throwaway_database(pg_url: str) -> Iterator[str]:
    """A database of this run only, ``notifier_bench_<random>``, dropped at the end: its URL."""
    name = f"notifier_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{pg_url.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def migrated_engine(url: str) -> Engine:
    """An engine on the database at ``url``, brought to the current schema by the migrations."""
    engine = make_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    upgrade(engine)
    return engine


@contextmanager
def throwaway_environment(
    pg_url: str, redis_url: str, workdir: Path, **extra: str
) -> Iterator[dict[str, str]]:
    """A database and key prefix of this run only, and the environment that points at them."""
    prefix = f"notifier-bench-{uuid.uuid4().hex[:10]}:"
    with throwaway_database(pg_url) as database_url:
        try:
            yield _environment(database_url, redis_url, prefix, workdir, extra)
        finally:
            clear_redis(redis_url, prefix)


def _environment(
    database_url: str, redis_url: str, prefix: str, workdir: Path, extra: dict[str, str]
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NOTIFIER_", "TWILIO_", "GUNICORN_"))}
    env.update(
        {
            "NOTIFIER_DATABASE_URL": database_url,
            "NOTIFIER_BROKER_URL": redis_url,
            "NOTIFIER_BROKER_KEY_PREFIX": prefix,
            "NOTIFIER_SECRET_KEY": "bench",
            "NOTIFIER_DATA_DIR": str(workdir / "instance"),
            # No quiet hours: a run at 03:00 in Seoul must measure sending, not the wait for 08:00.
            "NOTIFIER_QUIET_HOURS": "00:00-00:00",
            **extra,
        }
    )
    return env


@dataclass(frozen=True)
class Ceiling:
    """What a ceiling run measured."""

    per_s: float  # messages (or calls) per second, from the start signal to the last answer
    used: float  # CPU seconds of the calling processes, their start-up included
    busy: float  # CPU seconds the whole machine was busy from the start signal to the end
    elapsed: float

    def machine_ms_per_message(self, count: int) -> float:
        """The machine's CPU per message while timed (the fake's and anything else's included)."""
        return self.busy * 1000 / count

    def saturation(self) -> float:
        """How much of the machine's cores the timed part kept busy (1.0: all of them)."""
        return self.busy / (self.elapsed * (os.cpu_count() or 1))


def busy_seconds() -> float:
    """CPU time the whole machine has spent busy (not idle, not waiting for I/O), in seconds."""
    ticks = [int(n) for n in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def run_ceiling(calls: list[Any], ready: Any, before: os.times_result, count: int) -> Ceiling:
    """Start the ceiling's processes together, time them from the start signal, and measure."""
    for call in calls:
        call.start()
    ready.wait(timeout=120)
    started, busy = time.monotonic(), busy_seconds()
    for call in calls:
        call.join()
    elapsed, busy = time.monotonic() - started, busy_seconds() - busy
    if any(call.exitcode != 0 for call in calls):
        raise RuntimeError("a ceiling process failed")
    after = os.times()
    used = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return Ceiling(count / elapsed, used, busy, elapsed)
