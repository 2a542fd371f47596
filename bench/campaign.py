"""Campaign benchmark: a CSV campaign through the real stack against a 50 ms Twilio fake.

    .venv/bin/python -m bench.campaign                       # 10,000 then 100,000 recipients
    .venv/bin/python -m bench.campaign --recipients 100000   # one size
    .venv/bin/python -m bench.campaign --quick               # 2,000 recipients, to check it works
    .venv/bin/python -m bench.campaign --paths solapi,twilio # through SOLAPI's send-many, then Twilio

With ``--paths solapi,twilio`` each size runs twice: through SOLAPI (the SOLAPI fake, also
50 ms per request, ``--solapi-batch`` messages per send-many call; see ``bench.solapi_path``
for its ceiling) and through Twilio, each in a fresh stack.

For each size it starts everything afresh, as production runs it: ``notifier api`` (gunicorn),
bulk ``notifier worker`` processes (threads; one process per core unless ``--bulk-processes``
says otherwise), a transactional worker, ``notifier scheduler`` and the Twilio fake as a
separate process (``tests.fakes.twilio_server --latency-ms 50``). It uploads the list as CSV,
starts the campaign, posts a transactional message every 0.5 s while it runs, and waits until
the campaign is finished. Then, in the same run, it measures the ceiling: the same number of
provider calls made directly with the same concurrency in the same shape (as many processes
and threads as the bulk workers, the real twilio client), no queue and no database.

Reported: upload time, messages per second and time to finish, the ceiling and the share of it
reached, peak memory (VmHWM) of every process, and p50/p99 of the transactional messages'
API-to-provider time (from the message's ``created_at`` to its ``sent`` event, so it includes
the fake's 50 ms). Where the two cores went: CPU per campaign message of every process while
the campaign ran (user + system time from ``/proc``; the PostgreSQL and Redis servers too, and
the whole machine), and the same per call for the ceiling; how long after the start the first
message was claimed, and after the last ``sent`` the scheduler marked the campaign finished.
How busy the ceiling kept the cores while timed, and from that the most of the ceiling the path
could reach with PostgreSQL's CPU per message added to the ceiling's (``keep_ceiling``).
Duplicates at the provider are counted by message SID per address. Makes its own database
``notifier_bench_<random>`` (dropped at the end) and uses Redis database 13 under its own key
prefix (deleted at the end); talks only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import os
import platform
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import requests

from bench.common import (
    APPOINTMENT_DATA,
    HOST,
    ROOT,
    Ceiling,
    busy_seconds,
    free_port,
    healthy,
    percentile,
    run_ceiling,
    run_notifier,
    throwaway_environment,
)
from bench.solapi_path import solapi_ceiling, solapi_env, solapi_fake, stop_solapi_fake
from notifier.config import Settings

SENDER = "+82416615676"
TEMPLATE = "program_announcement_jobseekers"
TRANSACTIONAL_EVERY = 0.5
DATABASE_CPU = "PostgreSQL (run's database)"
AIM_SHARE, AIM_P99_S, AIM_MEMORY_GROWTH, AIM_SOLAPI_TIMES = 0.60, 2.0, 0.30, 5.0
TRANSACTIONAL_BODY = {
    "template": "appointment_confirmation",
    "channel": "sms",
    "center": {"code": "seosan"},
    "data": APPOINTMENT_DATA,
}


@dataclass
class Result:
    recipients: int
    bulk_threads: int
    bulk_processes: int
    path: str = "twilio"  # the provider the campaign went through
    upload_s: float = 0.0
    finish_s: float = 0.0
    messages_per_s: float = 0.0
    ceiling_per_s: float = 0.0
    sent: int = 0
    failed: int = 0
    duplicates_at_provider: int = 0
    transactional: int = 0
    transactional_p50_s: float = 0.0
    transactional_p99_s: float = 0.0
    peak_mib: dict[str, float] = field(default_factory=dict)
    # CPU used while the campaign ran, per campaign message (user + system), by process.
    cpu_ms_per_message: dict[str, float] = field(default_factory=dict)
    ceiling_cpu_ms_per_call: dict[str, float] = field(default_factory=dict)
    # Parts of the time to finish that are not sending: start to the first claim, and the last
    # message recorded as sent to the scheduler marking the campaign finished.
    first_claim_s: float = 0.0
    after_last_sent_s: float = 0.0
    load_before: float = 0.0
    # How busy the ceiling kept the machine's cores (1.0: all of them, the whole time), and the
    # largest share of the ceiling the path could reach with PostgreSQL's work alone added.
    ceiling_saturation: float = 0.0
    share_bound: float = 0.0


# ---- processes -----------------------------------------------------------------------------


def peak_mib(pid: int) -> float:
    """VmHWM (peak resident set) of a live process, in MiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far, in seconds (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_processes(database: str) -> dict[str, list[int]]:
    """Processes of the PostgreSQL and Redis servers on this machine, by what they serve.

    The server-wide figures include whatever else the servers did meanwhile (autovacuum, other
    databases); backends that ended during the run are missing from the per-database figure.
    """
    found: dict[str, list[int]] = {DATABASE_CPU: [], "PostgreSQL (whole server)": []}
    found["Redis (whole server)"] = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().decode(errors="replace").replace("\0", " ")
                name = (entry / "comm").read_text().strip()
            except OSError:
                continue
            if name == "postgres" or command.startswith("postgres"):
                found["PostgreSQL (whole server)"].append(int(entry.name))
                if f" {database} " in command:
                    found[DATABASE_CPU].append(int(entry.name))
            elif name == "redis-server":
                found["Redis (whole server)"].append(int(entry.name))
    return found


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
            except OSError:
                continue
            if ppid == pid:
                found.append(int(entry.name))
    return found


class Stack:
    """The processes of one run, each with its log file; stopped in reverse order."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs = env, logs
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(
        self, name: str, args: list[str], extra: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        with (self.logs / f"{name}.log").open("ab") as out:
            proc = subprocess.Popen(
                args, env={**self.env, **(extra or {})}, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
            )
        self.procs[name] = proc
        return proc

    def notifier(self, name: str, *args: str, extra: dict[str, str] | None = None) -> None:
        self.start(name, [sys.executable, "-m", "notifier", *args], extra)

    def peaks(self) -> dict[str, float]:
        result = {}
        for name, proc in self.procs.items():
            result[name] = peak_mib(proc.pid)
            if name == "api":
                for i, child in enumerate(sorted(children(proc.pid))):
                    result[f"api worker {i + 1}"] = peak_mib(child)
        return result

    def cpu(self, database: str) -> dict[str, float]:
        """CPU seconds used so far by every process of the run, the database's backends included."""
        result = {"machine (all processes)": busy_seconds()}
        for name, proc in self.procs.items():
            result[name] = cpu_seconds(proc.pid)
            if name == "api":
                result["api workers"] = sum(cpu_seconds(child) for child in children(proc.pid))
        for name, pids in server_processes(database).items():
            result[name] = sum(cpu_seconds(pid) for pid in pids)
        return result

    def stop(self) -> None:
        for proc in reversed(list(self.procs.values())):
            proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def wait_until(check: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.2)


def write_list(path: Path, count: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["phone", "name", "deadline"])
        for i in range(count):
            writer.writerow([f"010-5{i // 10000:03d}-{i % 10000:04d}", f"구직자{i}", "12월 19일(금)"])


def post_transactional(port: int, headers: dict[str, str], stop: threading.Event, ids: list[str]) -> None:
    session = requests.Session()
    n = 0
    while not stop.wait(TRANSACTIONAL_EVERY):
        body = {
            **TRANSACTIONAL_BODY,
            "to": {"phone": f"010-9{n // 10000:03d}-{n % 10000:04d}", "name": "홍길동"},
        }
        response = session.post(f"http://{HOST}:{port}/v1/messages", json=body, headers=headers, timeout=10)
        if response.status_code == 202:
            ids.append(response.json()["id"])
        n += 1
    session.close()


def connect(database_url: str) -> psycopg.Connection[tuple[Any, ...]]:
    """A plain psycopg connection to the run's database (its URL is written for SQLAlchemy)."""
    return psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://"))


def api_to_provider(database_url: str, ids: list[str]) -> list[float]:
    """Seconds from each message's creation to its ``sent`` event, ascending."""
    with connect(database_url) as conn:
        rows = conn.execute(
            "SELECT m.created_at, e.at FROM messages m JOIN message_events e ON e.message_id = m.id "
            "WHERE e.status = 'sent' AND m.id = ANY(%s)",
            (ids,),
        ).fetchall()
    return sorted((at - created).total_seconds() for created, at in rows)


def campaign_span(database_url: str, campaign_id: str) -> tuple[datetime, datetime]:
    """When the campaign's first message was claimed and when its last was recorded as sent."""
    with connect(database_url) as conn:
        first, last = conn.execute(
            "SELECT min(e.at) FILTER (WHERE e.status = 'sending'), "
            "max(e.at) FILTER (WHERE e.status = 'sent') "
            "FROM message_events e JOIN messages m ON m.id = e.message_id WHERE m.campaign_id = %s",
            (campaign_id,),
        ).fetchone()
    return first, last


def twilio_fake(
    stack: Stack, latency_ms: float, identity: tuple[str, str, int] | None = None
) -> tuple[str, str, str]:
    """Start the fake (with a new account, or again with ``identity``: sid, token, port)."""
    sid, token, port = identity or ("AC" + secrets.token_hex(16), secrets.token_hex(16), free_port())
    stack.start(
        "twilio fake",
        [
            sys.executable,
            "-m",
            "tests.fakes.twilio_server",
            "--port",
            str(port),
            "--latency-ms",
            str(latency_ms),
            "--account-sid",
            sid,
            "--auth-token",
            token,
        ],
    )
    base = f"http://{HOST}:{port}"
    url = f"{base}/2010-04-01/Accounts/{sid}/Messages.json"
    wait_until(lambda: _answers(url, sid, token), 30, "the Twilio fake")
    return base, sid, token


def _answers(url: str, sid: str, token: str) -> bool:
    try:
        return requests.get(url, auth=(sid, token), timeout=1).status_code == 200
    except requests.RequestException:
        return False


def provider_count(base: str, sid: str, token: str) -> tuple[int, int]:
    """(messages the fake accepted, how many of them went to an address it had seen already)."""
    url = f"{base}/2010-04-01/Accounts/{sid}/Messages.json?PageSize=1000"
    # Counted by message SID: pages are newest first, so a (transactional) message accepted
    # while we page shifts the pages by one and shows one message on two pages.
    seen: dict[str, set[str]] = {}
    page = 0
    while True:
        got = requests.get(f"{url}&Page={page}", auth=(sid, token), timeout=30).json()
        for item in got["messages"]:
            seen.setdefault(item["to"], set()).add(item["sid"])
        if not got.get("next_page_uri"):
            break
        page += 1
    bulk = {to: len(sids) for to, sids in seen.items() if to.startswith("+82105")}
    return sum(bulk.values()), sum(n - 1 for n in bulk.values())


def fresh_twilio_fake(stack: Stack, latency_ms: float, base: str, sid: str, token: str) -> None:
    """The fake again, empty: the ceiling's calls meet a fake that starts as the campaign's did.

    The fake keeps every message; one already holding the campaign's would be slower for the
    ceiling's calls than it was for the campaign's.
    """
    old = stack.procs.pop("twilio fake")
    old.terminate()
    old.wait(timeout=30)
    twilio_fake(stack, latency_ms, (sid, token, int(base.rsplit(":", 1)[1])))


def campaign_request(database_url: str, campaign_id: str) -> tuple[str, str]:
    """The body one campaign message was sent with, and the status callback URL it carried."""
    with connect(database_url) as conn:
        message_id, body = conn.execute(
            "SELECT id, body FROM messages WHERE campaign_id = %s AND body IS NOT NULL LIMIT 1",
            (campaign_id,),
        ).fetchone()
    callback = f"{Settings.from_env({}).public_url}/webhooks/twilio/status?message_id={message_id}"
    return body, callback


def ceiling(
    base: str, sid: str, token: str, count: int, threads: int, processes: int, request: tuple[str, str]
) -> Ceiling:
    """Provider calls per second made directly, and the CPU they took.

    The real twilio client, nothing else, in the shape of the bulk workers: ``processes``
    processes sharing ``threads`` threads, each call with the body and status callback of a
    campaign message. They start together once each has loaded the client.
    """
    spawn = multiprocessing.get_context("spawn")
    ready = spawn.Barrier(processes + 1)
    before = os.times()
    calls = [
        spawn.Process(
            target=call_share,
            args=(base, sid, token, range(n, count, processes), threads // processes, request, ready),
        )
        for n in range(processes)
    ]
    return run_ceiling(calls, ready, before, count)


def call_share(
    base: str, sid: str, token: str, share: range, threads: int, request: tuple[str, str], ready: Any
) -> None:
    """One ceiling process: its share of the calls, from ``threads`` threads, each with its own sender."""
    from notifier.channels.base import SmsRequest
    from notifier.channels.twilio_sms import TwilioSender
    from notifier.config import TwilioSettings

    local = threading.local()

    def send(i: int) -> None:
        if not hasattr(local, "sender"):
            local.sender = TwilioSender(TwilioSettings(sid, token, SENDER, base))
        body, callback = request
        local.sender.send(SmsRequest(f"c{i}", f"+8210{6000_0000 + i}", SENDER, body, callback))

    TwilioSender(TwilioSettings(sid, token, SENDER, base))  # the library's lazy imports, before the clock
    ready.wait(timeout=120)
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(send, share))


def run_one(args: argparse.Namespace, count: int, workdir: Path, path: str = "twilio") -> Result:
    result = Result(count, args.bulk_threads, args.bulk_processes, path)
    result.load_before = os.getloadavg()[0]
    with throwaway_environment(args.pg_url, args.redis_url, workdir, NOTIFIER_LOG_LEVEL="WARNING") as env:
        logs = workdir / f"logs-{path}-{count}"
        logs.mkdir()
        stack = Stack(env, logs)
        try:
            base, sid, token = twilio_fake(stack, args.latency_ms)
            env.update(
                {
                    "TWILIO_ACCOUNT_SID": sid,
                    "TWILIO_AUTH_TOKEN": token,
                    "TWILIO_FROM": SENDER,
                    "NOTIFIER_TWILIO_BASE_URL": base,
                    "NOTIFIER_RATE_LIMIT_PER_SECOND": args.rate_limit,
                }
            )
            if path == "solapi":
                solapi_base, secret = solapi_fake(stack, args.latency_ms)
                env.update(solapi_env(solapi_base, secret, args.solapi_batch))
            run_notifier(env, "db", "upgrade")
            key = run_notifier(env, "keys", "create", "bench", "--scope", "campaigns", "--scope", "send")
            headers = {"Authorization": f"Bearer {key.strip().splitlines()[-1]}"}
            port = free_port()
            # gthread: a long upload does not trip gunicorn's worker timeout.
            gunicorn = {"GUNICORN_CMD_ARGS": "--worker-class gthread --threads 4 --timeout 600"}
            stack.notifier("api", "api", "--bind", f"{HOST}:{port}", "--workers", "2", extra=gunicorn)
            threads = str(args.bulk_threads // args.bulk_processes)
            for n in range(args.bulk_processes):
                name = "bulk worker" if args.bulk_processes == 1 else f"bulk worker {n + 1}"
                stack.notifier(
                    name, "worker", "--queues", "bulk", "--pool", "threads", "--concurrency", threads
                )
            stack.notifier(
                "transactional worker", "worker", "--queues", "transactional", "--concurrency", "4"
            )
            stack.notifier("scheduler", "scheduler")
            wait_until(lambda: healthy(port), 60, "the API")
            csv_path = workdir / f"list-{count}.csv"
            write_list(csv_path, count)
            form = {
                "name": f"bench {count}",
                "template": TEMPLATE,
                "category": "informational",
                "center": "seosan",
                "channel": "sms",
            }
            started = time.monotonic()
            with csv_path.open("rb") as upload:
                created = requests.post(
                    f"http://{HOST}:{port}/v1/campaigns",
                    data=form,
                    files={"file": ("list.csv", upload, "text/csv")},
                    headers=headers,
                    timeout=900,
                )
            result.upload_s = time.monotonic() - started
            if created.status_code != 201:
                raise SystemExit(f"upload answered {created.status_code}: {created.text[:500]}")
            campaign_id = created.json()["id"]
            print(f"  {count:,} rows uploaded and checked in {result.upload_s:.1f} s", flush=True)
            ids: list[str] = []
            stop = threading.Event()
            poster = threading.Thread(target=post_transactional, args=(port, headers, stop, ids), daemon=True)
            poster.start()
            started = time.monotonic()
            database = env["NOTIFIER_DATABASE_URL"].rsplit("/", 1)[1]
            cpu_before = stack.cpu(database)
            url = f"http://{HOST}:{port}/v1/campaigns/{campaign_id}"
            assert requests.post(f"{url}/start", headers=headers, timeout=60).status_code == 200
            while True:
                view = requests.get(url, headers=headers, timeout=60).json()
                if view["status"] == "finished":
                    break
                if time.monotonic() - started > args.timeout:
                    raise SystemExit(f"not finished after {args.timeout} s: {view['counts']}")
                print(f"\r  {view['progress']['done']:,}/{count:,} {view['counts']}", end="", flush=True)
                time.sleep(1.0)
            stop.set()
            poster.join()
            started_at = datetime.fromisoformat(view["started_at"])
            finished_at = datetime.fromisoformat(view["finished_at"])
            result.finish_s = (finished_at - started_at).total_seconds()
            result.messages_per_s = count / result.finish_s
            result.sent = view["counts"].get("sent", 0)
            result.failed = view["counts"].get("failed", 0)
            print(f"\r  finished: {result.sent:,} sent in {result.finish_s:.1f} s", flush=True)
            result.peak_mib = stack.peaks()
            cpu_after = stack.cpu(database)
            result.cpu_ms_per_message = {
                name: (cpu_after[name] - cpu_before.get(name, 0.0)) * 1000 / count for name in cpu_after
            }
            first_claim, last_sent = campaign_span(env["NOTIFIER_DATABASE_URL"], campaign_id)
            result.first_claim_s = (first_claim - started_at).total_seconds()
            result.after_last_sent_s = (finished_at - last_sent).total_seconds()
            latencies = api_to_provider(env["NOTIFIER_DATABASE_URL"], ids)
            result.transactional = len(latencies)
            result.transactional_p50_s = percentile(latencies, 50)
            result.transactional_p99_s = percentile(latencies, 99)
            twilio_bulk, result.duplicates_at_provider = provider_count(base, sid, token)
            request = campaign_request(env["NOTIFIER_DATABASE_URL"], campaign_id)
            if path == "solapi":
                # Repeats at either provider, and anyone who got one message from each.
                solapi_bulk, repeats = stop_solapi_fake(stack, "0105")
                result.duplicates_at_provider += repeats + max(0, solapi_bulk + twilio_bulk - count)
                port = int(solapi_base.rsplit(":", 1)[1])
                solapi_fake(stack, args.latency_ms, (secret, port))  # empty again, like the twilio fake
                fake = stack.procs["solapi fake"].pid
                faked = cpu_seconds(fake)
                measured = solapi_ceiling(
                    solapi_base,
                    secret,
                    count,
                    args.solapi_batch,
                    args.bulk_threads,
                    args.bulk_processes,
                    request[0],
                    SENDER,
                )
                keep_ceiling(result, measured, count)
                result.ceiling_cpu_ms_per_call = {
                    "solapi SDK processes (start-up included), per message": measured.used * 1000 / count,
                    "solapi fake, per message": (cpu_seconds(fake) - faked) * 1000 / count,
                    "machine while timed, per message": measured.machine_ms_per_message(count),
                }
                print(f"  ceiling: {result.ceiling_per_s:.0f} messages/s", flush=True)
                return result
            fresh_twilio_fake(stack, args.latency_ms, base, sid, token)
            fake = stack.procs["twilio fake"].pid
            faked = cpu_seconds(fake)
            measured = ceiling(base, sid, token, count, args.bulk_threads, args.bulk_processes, request)
            keep_ceiling(result, measured, count)
            result.ceiling_cpu_ms_per_call = {
                "ceiling (twilio client processes, start-up included)": measured.used * 1000 / count,
                "twilio fake": (cpu_seconds(fake) - faked) * 1000 / count,
                "machine (all processes) while timed": measured.machine_ms_per_message(count),
            }
            print(f"  ceiling: {result.ceiling_per_s:.0f} calls/s", flush=True)
        finally:
            stack.stop()
    return result


def keep_ceiling(result: Result, measured: Ceiling, count: int) -> None:
    """The ceiling's rate, how busy it kept the cores, and the share it leaves the path.

    When the ceiling keeps every core busy, it is bound by CPU, not by the fake's latency, and
    then the path (which makes the same calls, and stores every message besides) can reach at
    most ceiling CPU / (ceiling CPU + PostgreSQL's CPU per message of the path) of it, whatever
    the service's own code costs: both run on the same cores.
    """
    result.ceiling_per_s = measured.per_s
    result.ceiling_saturation = measured.saturation()
    calls = measured.machine_ms_per_message(count)
    database = result.cpu_ms_per_message.get(DATABASE_CPU, 0.0)
    result.share_bound = calls / (result.ceiling_saturation * (calls + database))


# ---- report -------------------------------------------------------------------------------


def machine() -> list[str]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "unknown",
    )
    total = next(
        line.split(":", 1)[1].strip()
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    return [
        f"cores (nproc): {os.cpu_count()}",
        f"CPU: {cpu}",
        f"memory: {total}",
        f"Python: {platform.python_version()}",
    ]


def table(results: list[Result]) -> str:
    lines = [
        "| path | recipients | upload + check | time to finish | messages/s | ceiling messages/s | share "
        "| sent | failed | dup. at provider | transactional p50 / p99 (n) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.path} | {r.recipients:,} | {r.upload_s:.1f} s | {r.finish_s:.1f} s | "
            f"{r.messages_per_s:.0f} | "
            f"{r.ceiling_per_s:.0f} | {r.messages_per_s / r.ceiling_per_s:.0%} | {r.sent:,} | {r.failed} | "
            f"{r.duplicates_at_provider} | {r.transactional_p50_s:.2f} s / {r.transactional_p99_s:.2f} s "
            f"({r.transactional}) |"
        )
    names = sorted({name for r in results for name in r.peak_mib})
    lines += [
        "",
        "| peak RSS (VmHWM), MiB | " + " | ".join(f"{r.path} {r.recipients:,}" for r in results) + " |",
        "|---|" + "---:|" * len(results),
    ]
    for name in names:
        lines.append(
            f"| {name} | " + " | ".join(f"{r.peak_mib.get(name, float('nan')):.0f}" for r in results) + " |"
        )
    lines += [
        "",
        "| CPU ms per message (campaign) or call (ceiling) | "
        + " | ".join(f"{r.path} {r.recipients:,}" for r in results)
        + " |",
        "|---|" + "---:|" * len(results),
    ]
    for name in sorted({name for r in results for name in r.cpu_ms_per_message}):
        lines.append(
            f"| {name} | "
            + " | ".join(f"{r.cpu_ms_per_message.get(name, float('nan')):.2f}" for r in results)
            + " |"
        )
    for name in sorted({name for r in results for name in r.ceiling_cpu_ms_per_call}):
        lines.append(
            f"| ceiling run: {name} | "
            + " | ".join(f"{r.ceiling_cpu_ms_per_call.get(name, float('nan')):.2f}" for r in results)
            + " |"
        )
    lines.append(
        "| start to first claim / last sent to finished, s | "
        + " | ".join(f"{r.first_claim_s:.1f} / {r.after_last_sent_s:.1f}" for r in results)
        + " |"
    )
    lines.append(
        "| ceiling: cores kept busy / most of it reachable with PostgreSQL's work added | "
        + " | ".join(f"{r.ceiling_saturation:.0%} / {r.share_bound:.0%}" for r in results)
        + " |"
    )
    lines.append(
        "| load average (1 min) before the run | "
        + " | ".join(f"{r.load_before:.1f}" for r in results)
        + " |"
    )
    return "\n".join(lines)


def verdicts(results: list[Result]) -> list[str]:
    out = []
    for r in results:
        share = r.messages_per_s / r.ceiling_per_s
        out.append(
            f"{r.path} {r.recipients:,}: {share:.0%} of the ceiling "
            f"({'meets' if share >= AIM_SHARE else 'misses'} "
            f"{AIM_SHARE:.0%}); transactional p99 {r.transactional_p99_s:.2f} s "
            f"({'meets' if r.transactional_p99_s < AIM_P99_S else 'misses'} {AIM_P99_S:.0f} s); "
            f"the ceiling kept the cores {r.ceiling_saturation:.0%} busy"
            + (
                f", so with PostgreSQL's CPU per message added to the ceiling's the path can reach "
                f"at most {r.share_bound:.0%} of it"
                if r.share_bound < 1
                else ""
            )
        )
    for path in sorted({r.path for r in results}):
        runs = [r for r in results if r.path == path]
        if len(runs) < 2:
            continue
        small, large = runs[0], runs[-1]
        # The fakes keep every message they accepted in memory; they are not the service.
        ours = [n for n in small.peak_mib if n in large.peak_mib and not n.endswith("fake")]
        growth = max(large.peak_mib[n] / small.peak_mib[n] - 1 for n in ours)
        out.append(
            f"{path} memory {small.recipients:,} -> {large.recipients:,}: largest growth of one service "
            f"process {growth:+.0%} ({'meets' if growth <= AIM_MEMORY_GROWTH else 'misses'} "
            f"{AIM_MEMORY_GROWTH:.0%})"
        )
    for solapi in (r for r in results if r.path == "solapi"):
        twilio = next((r for r in results if r.path == "twilio" and r.recipients == solapi.recipients), None)
        if twilio is not None:
            times = solapi.messages_per_s / twilio.messages_per_s
            out.append(
                f"{solapi.recipients:,}: SOLAPI path {times:.1f}x the Twilio path's messages/s "
                f"({'meets' if times >= AIM_SOLAPI_TIMES else 'misses'} {AIM_SOLAPI_TIMES:.0f}x)"
            )
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.campaign",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--recipients", default="10000,100000", help="comma-separated sizes")
    parser.add_argument("--quick", action="store_true", help="2,000 recipients only")
    parser.add_argument("--bulk-threads", type=int, default=48, help="threads of the bulk workers, in all")
    parser.add_argument(
        "--bulk-processes",
        type=int,
        default=os.cpu_count() or 1,
        help="bulk worker processes sharing them (default: one per core); the ceiling has the same shape",
    )
    parser.add_argument("--latency-ms", type=float, default=50.0, help="added by the fakes to each request")
    parser.add_argument(
        "--paths", default="twilio", help="providers to run the campaign through, in turn: solapi,twilio"
    )
    parser.add_argument(
        "--solapi-batch", type=int, default=500, help="NOTIFIER_SOLAPI_BATCH_SIZE (messages per send-many)"
    )
    parser.add_argument("--rate-limit", default="100000", help="NOTIFIER_RATE_LIMIT_PER_SECOND for the run")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds to wait for one campaign")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)
    sizes = [2000] if args.quick else [int(s) for s in args.recipients.split(",")]
    print("\n".join(machine()), flush=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="notifier-bench-campaign-") as tmp:
        for count in sizes:
            for path in args.paths.split(","):
                workers = f"{args.bulk_processes} bulk worker process(es), {args.bulk_threads} threads in all"
                print(f"campaign of {count:,} recipients through {path}, {workers}", flush=True)
                results.append(run_one(args, count, Path(tmp), path))
    print("\n" + table(results) + "\n\n" + "\n".join(verdicts(results)))
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
