"""Intake benchmark: POST /v1/messages against a bare Redis push on the same gunicorn server.

    .venv/bin/python -m bench.intake            # full run, five to ten minutes
    .venv/bin/python -m bench.intake --quick    # a short run, to check it works

Makes its own PostgreSQL database (dropped at the end) and uses Redis database 13 under its
own key prefix (deleted at the end); talks only to 127.0.0.1. For each gunicorn setting it
measures, per endpoint, a closed loop at growing concurrency (requests/s, p50, p99) and then an
open loop at a fixed rate on /v1/messages (p50 and p99 measured from each request's planned
start, so a slow server cannot slow the load down and hide its own latency). No worker runs:
intake only commits the message and queues its id.

The load generator is plain Python (processes of threads on http.client, keep-alive where the
server allows it) and shares the machine's cores with gunicorn, PostgreSQL and Redis. Each row
says where the CPU went; a point during which other work took more than OTHERS_LIMIT of the
machine is measured again (``--attempts``), and the quietest try is kept.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import partial
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import psycopg
import redis

from bench.common import (
    APPOINTMENT_DATA,
    HOST,
    ROOT,
    clear_redis,
    free_port,
    healthy,
    percentile,
    run_notifier,
    throwaway_environment,
)

MESSAGES = "/v1/messages"
BARE = "/bench/bare"
CONCURRENCY = (1, 4, 16, 64)
DEFAULT_SERVERS = "gthread:2x8,sync:2,gthread:4x4"
CLIENT_PROCESSES = 2
OPEN_LOOP_THREADS = 32
REQUEST_TIMEOUT = 10.0
AIM_P99_MS = 50.0
OTHERS_LIMIT = 0.10  # share of the machine other work may take during a measured window

MESSAGE_BODY = {
    "template": "appointment_confirmation",
    "to": {"phone": "010-1234-5678", "name": "홍길동"},
    "channel": "sms",
    "center": {"name": "서산고용복지+센터", "phone": "041-661-5676", "sms_sender": "041-661-5676"},
    "data": APPOINTMENT_DATA,
}


@dataclass(frozen=True)
class ServerSetting:
    """One way to run gunicorn: ``sync:4`` or ``gthread:2x4`` (workers x threads)."""

    worker_class: str
    workers: int
    threads: int = 1

    @classmethod
    def parse(cls, spec: str) -> ServerSetting:
        kind, _, size = spec.partition(":")
        workers, _, threads = size.partition("x")
        if kind not in ("sync", "gthread") or not workers.isdigit():
            raise argparse.ArgumentTypeError(f"expected sync:N or gthread:NxT, got {spec!r}")
        return cls(kind, int(workers), int(threads or (4 if kind == "gthread" else 1)))

    @property
    def label(self) -> str:
        if self.worker_class == "sync":
            return f"{self.workers} sync workers"
        return f"{self.workers} gthread workers x {self.threads} threads"


@dataclass(frozen=True)
class Load:
    """What one load process does; picklable, so it crosses into the child process."""

    port: int
    path: str
    headers: dict[str, str]
    body: bytes
    threads: int
    start: float  # time.monotonic() at which to begin; shared by all load processes
    warmup: float
    duration: float
    rate: float = 0.0  # requests/s for this process; 0 means closed loop
    offset: float = 0.0  # this process's place in the open-loop schedule, in seconds


@dataclass
class Sample:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    cpu: float = 0.0  # the load generator's own CPU seconds in the measured window

    def merge(self, other: Sample) -> None:
        self.latencies.extend(other.latencies)
        self.errors += other.errors
        self.cpu += other.cpu


@dataclass(frozen=True)
class Row:
    setting: str
    endpoint: str
    load: str
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int
    gunicorn_cpu_ms: float  # CPU time per request, master and workers
    stores_cpu_ms: float  # PostgreSQL (this run's backends) and Redis
    client_cpu_ms: float  # the load generator
    machine_busy: float  # share of all cores busy during the window
    others_busy: float  # share of all cores busy with none of the above (kernel, other work)


def sleep_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.monotonic()))


def _send(conn: http.client.HTTPConnection, load: Load) -> bool:
    try:
        conn.request("POST", load.path, load.body, load.headers)
        response = conn.getresponse()
        response.read()
        return response.status == 202
    except (OSError, http.client.HTTPException):
        conn.close()  # reconnect on the next request
        return False


def _closed_loop_thread(load: Load, sample: Sample, lock: threading.Lock) -> None:
    conn = http.client.HTTPConnection(HOST, load.port, timeout=REQUEST_TIMEOUT)
    measure_from, end = load.start + load.warmup, load.start + load.warmup + load.duration
    mine = Sample()
    while (started := time.monotonic()) < end:
        ok = _send(conn, load)
        if started >= measure_from:
            mine.latencies.append(time.monotonic() - started)
            mine.errors += not ok
    conn.close()
    with lock:
        sample.merge(mine)


def _open_loop_thread(load: Load, slots: Iterator[int], sample: Sample, lock: threading.Lock) -> None:
    conn = http.client.HTTPConnection(HOST, load.port, timeout=REQUEST_TIMEOUT)
    measure_from, end = load.start + load.warmup, load.start + load.warmup + load.duration
    mine = Sample()
    while True:
        with lock:
            slot = next(slots)
        planned = load.start + load.offset + slot / load.rate
        if planned >= end:
            break
        sleep_until(planned)
        ok = _send(conn, load)
        if planned >= measure_from:
            mine.latencies.append(time.monotonic() - planned)  # includes any wait for a thread
            mine.errors += not ok
    conn.close()
    with lock:
        sample.merge(mine)


def load_process(load: Load, out: Connection) -> None:
    """Run ``load`` on its threads and send back one Sample."""
    sample, lock = Sample(), threading.Lock()
    slots = iter(range(sys.maxsize))
    if load.rate:
        threads = [
            threading.Thread(target=_open_loop_thread, args=(load, slots, sample, lock))
            for _ in range(load.threads)
        ]
    else:
        threads = [
            threading.Thread(target=_closed_loop_thread, args=(load, sample, lock))
            for _ in range(load.threads)
        ]
    for thread in threads:
        thread.start()
    sleep_until(load.start + load.warmup)
    cpu = time.process_time()
    sleep_until(load.start + load.warmup + load.duration)
    cpu = time.process_time() - cpu
    for thread in threads:
        thread.join()
    sample.cpu = cpu
    out.send(sample)
    out.close()


@dataclass
class Running:
    pipes: list[Connection]
    procs: list[multiprocessing.process.BaseProcess]

    def collect(self) -> Sample:
        """Wait for every load process and merge what they measured."""
        total = Sample()
        for receiver in self.pipes:
            total.merge(receiver.recv())
        for proc in self.procs:
            proc.join(timeout=30)
        total.latencies.sort()
        return total


def start_load(loads: list[Load]) -> Running:
    """Start each Load in its own process."""
    mp = multiprocessing.get_context("spawn")
    running = Running([], [])
    for load in loads:
        receiver, sender = mp.Pipe(duplex=False)
        proc = mp.Process(target=load_process, args=(load, sender), daemon=True)
        proc.start()
        running.pipes.append(receiver)
        running.procs.append(proc)
    return running


# ---- measuring the server ----------------------------------------------------------------


@dataclass(frozen=True)
class CpuSnapshot:
    """CPU seconds used so far by each part of the system, and by the whole machine."""

    gunicorn: float
    stores: float  # this run's PostgreSQL backends, and Redis
    machine_busy: float

    def __sub__(self, earlier: CpuSnapshot) -> CpuSnapshot:
        return CpuSnapshot(
            self.gunicorn - earlier.gunicorn,
            self.stores - earlier.stores,
            self.machine_busy - earlier.machine_busy,
        )


def cpu_snapshot(gunicorn_pid: int, database: str) -> CpuSnapshot:
    """Read /proc: gunicorn is its master and workers; PostgreSQL, the backends of ``database``."""
    ticks = os.sysconf("SC_CLK_TCK")
    gunicorn = stores = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            comm, _, rest = (entry / "stat").read_text().rpartition(")")
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue  # the process ended while we looked
        fields = rest.split()
        used = (int(fields[11]) + int(fields[12])) / ticks
        if gunicorn_pid in (int(entry.name), int(fields[1])):
            gunicorn += used
        elif f" {database} ".encode() in cmdline or comm.endswith("(redis-server"):
            stores += used
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    busy = sum(values) - values[3] - values[4]  # all but idle and iowait
    return CpuSnapshot(gunicorn, stores, busy / ticks)


def measure(
    target: tuple[int, str],
    setting: ServerSetting,
    label: str,
    endpoint: str,
    make_loads: Callable[[], list[Load]],
) -> Row:
    """Run the loads; CPU figures cover the measured window only, not the warm-up."""
    loads = make_loads()
    first = loads[0]
    running = start_load(loads)
    sleep_until(first.start + first.warmup)
    before = cpu_snapshot(*target)
    sleep_until(first.start + first.warmup + first.duration)
    used = cpu_snapshot(*target) - before
    sample = running.collect()
    done = max(1, len(sample.latencies))
    capacity = first.duration * (os.cpu_count() or 1)
    ours = used.gunicorn + used.stores + sample.cpu
    return Row(
        setting=setting.label,
        endpoint=endpoint,
        load=label,
        requests_per_s=len(sample.latencies) / first.duration,
        p50_ms=percentile(sample.latencies, 50) * 1000,
        p99_ms=percentile(sample.latencies, 99) * 1000,
        errors=sample.errors,
        gunicorn_cpu_ms=used.gunicorn / done * 1000,
        stores_cpu_ms=used.stores / done * 1000,
        client_cpu_ms=sample.cpu / done * 1000,
        machine_busy=used.machine_busy / capacity,
        others_busy=max(0.0, used.machine_busy - ours) / capacity,
    )


def split(total: int, parts: int) -> list[int]:
    parts = max(1, min(parts, total))
    return [total // parts + (i < total % parts) for i in range(parts)]


def closed_loop(
    port: int,
    path: str,
    headers: dict[str, str],
    body: bytes,
    concurrency: int,
    warmup: float,
    duration: float,
) -> list[Load]:
    start = time.monotonic() + 1.0  # time for the load processes to start
    return [
        Load(port, path, headers, body, threads, start, warmup, duration)
        for threads in split(concurrency, CLIENT_PROCESSES)
    ]


def open_loop(
    port: int, path: str, headers: dict[str, str], body: bytes, rate: float, warmup: float, duration: float
) -> list[Load]:
    start = time.monotonic() + 1.0
    threads = split(OPEN_LOOP_THREADS, CLIENT_PROCESSES)
    share = rate / len(threads)
    return [
        Load(port, path, headers, body, n, start, warmup, duration, rate=share, offset=i / rate)
        for i, n in enumerate(threads)
    ]


# ---- the service under test --------------------------------------------------------------


def clear_messages(env: dict[str, str]) -> None:
    """Start every server setting from the same empty tables and queues."""
    url = env["NOTIFIER_DATABASE_URL"]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE message_events, idempotency_keys, outbox, messages")
    clear_redis(env["NOTIFIER_BROKER_URL"], env["NOTIFIER_BROKER_KEY_PREFIX"])


@contextmanager
def gunicorn(env: dict[str, str], setting: ServerSetting, log: Path) -> Iterator[tuple[int, int]]:
    """Serve the API as production does (`notifier api`); yield gunicorn's pid and port."""
    port = free_port()
    server_env = dict(env)
    with log.open("ab") as out:
        server = subprocess.Popen(  # `notifier api` execs gunicorn, keeping this pid
            [
                sys.executable,
                "-m",
                "notifier",
                "api",
                "--bind",
                f"{HOST}:{port}",
                "--workers",
                str(setting.workers),
                "--threads",  # 1: sync workers; more: gthread
                str(setting.threads),
            ],
            env=server_env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while not healthy(port):
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"gunicorn did not start; see {log}")
            time.sleep(0.1)
        yield server.pid, port
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def check_once(port: int, path: str, headers: dict[str, str], body: bytes) -> None:
    conn = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
    conn.request("POST", path, body, headers)
    response = conn.getresponse()
    text = response.read().decode(errors="replace")
    if response.status != 202:
        raise SystemExit(f"POST {path} answered {response.status}: {text}")


def busy_share(seconds: float) -> float:
    """How busy the whole machine is, measured over ``seconds``."""
    before = cpu_snapshot(-1, "-").machine_busy
    time.sleep(seconds)
    return (cpu_snapshot(-1, "-").machine_busy - before) / seconds / (os.cpu_count() or 1)


# ---- report -------------------------------------------------------------------------------


def machine_description() -> list[str]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "unknown",
    )
    memory = subprocess.run(["free", "-h"], capture_output=True, text=True, check=False).stdout
    return [
        f"cores (nproc): {os.cpu_count()}",
        f"CPU: {cpu}",
        f"Python: {platform.python_version()}",
        "memory (free -h):",
        *("    " + line for line in memory.splitlines()),
    ]


def service_versions(env: dict[str, str]) -> list[str]:
    with psycopg.connect(env["NOTIFIER_DATABASE_URL"]) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    client = redis.Redis.from_url(env["NOTIFIER_BROKER_URL"])
    info = client.info("server")
    client.close()
    return [f"PostgreSQL: {row[0] if row else '?'}", f"Redis: {info['redis_version']}"]


def table(rows: list[Row]) -> str:
    lines = [
        "| gunicorn | endpoint | load | requests/s | p50 ms | p99 ms | errors | CPU ms/req: gunicorn "
        "| PostgreSQL + Redis | load generator | machine busy | of which other |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.setting} | `{r.endpoint}` | {r.load} | {r.requests_per_s:.0f} | {r.p50_ms:.1f} | "
            f"{r.p99_ms:.1f} | {r.errors} | {r.gunicorn_cpu_ms:.2f} | {r.stores_cpu_ms:.2f} "
            f"| {r.client_cpu_ms:.2f} | {r.machine_busy:.0%} | {r.others_busy:.0%} |"
        )
    return "\n".join(lines)


def ratios(rows: list[Row]) -> str:
    """/v1/messages throughput as a share of the bare endpoint's, per setting and concurrency."""
    bare = {(r.setting, r.load): r.requests_per_s for r in rows if r.endpoint == BARE}
    lines = ["| gunicorn | load | /v1/messages ÷ bare |", "|---|---|---:|"]
    for r in rows:
        if r.endpoint == MESSAGES and (r.setting, r.load) in bare:
            lines.append(f"| {r.setting} | {r.load} | {r.requests_per_s / bare[r.setting, r.load]:.0%} |")
    return "\n".join(lines)


@dataclass(frozen=True)
class Plan:
    """What to measure on each server setting, and how long."""

    headers: dict[str, str]
    body: bytes
    rate: float
    warmup: float
    window: float
    open_window: float
    attempts: int

    @property
    def open_label(self) -> str:
        return f"open, {self.rate:.0f}/s for {self.open_window:.0f} s"


def quietest(attempts: int, *args: Any) -> Row:
    """``measure(*args)`` until other work stays under OTHERS_LIMIT; keep the quietest try."""
    best = measure(*args)
    for _ in range(attempts - 1):
        if best.others_busy <= OTHERS_LIMIT:
            break
        best = min(best, measure(*args), key=lambda row: row.others_busy)
    print(table([best]).splitlines()[-1], flush=True)
    return best


def bench_setting(env: dict[str, str], setting: ServerSetting, plan: Plan, log: Path) -> list[Row]:
    """Start gunicorn with ``setting``, then run the closed loops and the open loop."""
    clear_messages(env)
    database = env["NOTIFIER_DATABASE_URL"].rsplit("/", 1)[1]
    headers, body = plan.headers, plan.body
    rows = []
    with gunicorn(env, setting, log) as (pid, port):
        target = (pid, database)
        for path in (MESSAGES, BARE):
            check_once(port, path, headers, body)
            # Warm every worker: imports, connection pools, compiled templates.
            start_load(closed_loop(port, path, headers, body, 8, 0.0, 1.0)).collect()
        for concurrency in CONCURRENCY:
            label = f"closed, {concurrency} at a time"
            for path in (MESSAGES, BARE):
                loads = partial(closed_loop, port, path, headers, body, concurrency, plan.warmup, plan.window)
                rows.append(quietest(plan.attempts, target, setting, label, path, loads))
        loads = partial(open_loop, port, MESSAGES, headers, body, plan.rate, plan.warmup, plan.open_window)
        rows.append(quietest(plan.attempts, target, setting, plan.open_label, MESSAGES, loads))
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.intake",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="short windows, one server setting")
    parser.add_argument("--servers", help=f"gunicorn settings, default {DEFAULT_SERVERS}")
    parser.add_argument("--rate", type=float, default=200.0, help="open-loop requests/s")
    parser.add_argument(
        "--attempts", type=int, default=3, help="tries per point while other work disturbs the machine"
    )
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--json", type=Path, help="also write the rows to this file")
    args = parser.parse_args(argv)
    specs = args.servers or ("gthread:2x8" if args.quick else DEFAULT_SERVERS)
    servers = [ServerSetting.parse(spec) for spec in specs.split(",")]

    rows: list[Row] = []
    with (
        tempfile.TemporaryDirectory(prefix="notifier-bench-") as tmp,
        throwaway_environment(args.pg_url, args.redis_url, Path(tmp), NOTIFIER_BENCH_ENDPOINTS="1") as env,
    ):
        print("\n".join(machine_description() + service_versions(env)), flush=True)
        print(f"machine busy before the run: {busy_share(2.0):.0%}", flush=True)
        run_notifier(env, "db", "upgrade")
        key = run_notifier(env, "keys", "create", "bench", "--scope", "send").splitlines()[-1].strip()
        plan = Plan(
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
            body=json.dumps(MESSAGE_BODY, ensure_ascii=False).encode(),
            rate=args.rate,
            attempts=1 if args.quick else args.attempts,
            **(
                {"warmup": 0.5, "window": 2.0, "open_window": 3.0}
                if args.quick
                else {"warmup": 1.0, "window": 5.0, "open_window": 10.0}
            ),
        )
        for setting in servers:
            rows += bench_setting(env, setting, plan, Path(tmp) / "gunicorn.log")

    print("\n" + table(rows) + "\n\n" + ratios(rows) + "\n")
    for row in rows:
        if row.load == plan.open_label:
            verdict = "meets" if row.p99_ms < AIM_P99_MS and not row.errors else "misses"
            print(
                f"{row.setting}: p99 {row.p99_ms:.1f} ms at {plan.rate:.0f}/s {verdict} "
                f"the {AIM_P99_MS:.0f} ms aim"
            )
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
