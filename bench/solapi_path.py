"""The SOLAPI path of the campaign benchmark: its fake as a process, its ceiling, its count.

``bench.campaign --paths solapi,twilio`` runs the same campaign once through SOLAPI (send-many,
``NOTIFIER_SOLAPI_BATCH_SIZE`` messages per call) and once through Twilio (one call per
message), each against its fake with the same latency per request. The SOLAPI ceiling is the
same send-many calls made directly: as many calls of as many messages, from as many processes
and threads as the bulk workers, with the real solapi SDK, no queue and no database.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import secrets
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from bench.common import HOST, Ceiling, free_port, run_ceiling

if TYPE_CHECKING:
    from bench.campaign import Stack

NAME = "solapi fake"
API_KEY = "NCSBENCHKEY"


def solapi_fake(stack: Stack, latency_ms: float, identity: tuple[str, int] | None = None) -> tuple[str, str]:
    """Start the SOLAPI fake as a process (a new secret, or again with ``identity``: secret, port)."""
    secret, port = identity or (secrets.token_hex(16), free_port())
    stack.start(
        NAME,
        [
            sys.executable,
            "-m",
            "tests.fakes.solapi_server",
            "--port",
            str(port),
            "--latency-ms",
            str(latency_ms),
            "--api-key",
            API_KEY,
            "--api-secret",
            secret,
        ],
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection((HOST, port), timeout=1):
                break
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit("the SOLAPI fake did not start") from None
            time.sleep(0.2)
    return f"http://{HOST}:{port}", secret


def stop_solapi_fake(stack: Stack, prefix: str) -> tuple[int, int]:
    """Stop the fake; return (messages to numbers starting ``prefix``, how many repeat a recipient)."""
    proc = stack.procs.pop(NAME)
    proc.terminate()
    proc.wait(timeout=60)
    last = (stack.logs / f"{NAME}.log").read_text(encoding="utf-8").strip().splitlines()[-1]
    summary = json.loads(last)
    repeats = sum(n - 1 for to, n in summary["duplicates"].items() if to.startswith(prefix))
    return int(summary["by_prefix"].get(prefix, 0)), repeats


def solapi_env(base: str, secret: str, batch: int) -> dict[str, str]:
    return {
        "SOLAPI_API_KEY": API_KEY,
        "SOLAPI_API_SECRET": secret,
        "NOTIFIER_SOLAPI_BASE_URL": base,
        "NOTIFIER_SOLAPI_BATCH_SIZE": str(batch),
        "NOTIFIER_SMS_PROVIDERS": "solapi,twilio",
    }


def solapi_ceiling(
    base: str, secret: str, count: int, batch: int, threads: int, processes: int, body: str, sender: str
) -> Ceiling:
    """The same send-many calls made directly: messages per second, and the CPU they took."""
    spawn = multiprocessing.get_context("spawn")
    ready = spawn.Barrier(processes + 1)
    starts = list(range(0, count, batch))
    before = os.times()
    calls = [
        spawn.Process(
            target=call_batches,
            args=(
                base,
                secret,
                starts[n::processes],
                count,
                batch,
                threads // processes,
                body,
                sender,
                ready,
            ),
        )
        for n in range(processes)
    ]
    return run_ceiling(calls, ready, before, count)


def call_batches(
    base: str,
    secret: str,
    starts: list[int],
    count: int,
    batch: int,
    threads: int,
    body: str,
    sender: str,
    ready: Any,
) -> None:
    """One ceiling process: its share of the send-many calls, from ``threads`` threads."""
    from notifier.channels.base import SmsRequest
    from notifier.channels.solapi import SolapiSender
    from notifier.config import SolapiSettings

    local = threading.local()
    settings = SolapiSettings(API_KEY, secret, base)

    def send(start: int) -> None:
        if not hasattr(local, "sender"):
            local.sender = SolapiSender(settings)
        requests = [
            SmsRequest(f"c{i}", f"+8210{6000_0000 + i}", sender, body)
            for i in range(start, min(start + batch, count))
        ]
        outcomes = local.sender.send_many(requests)
        refused = [o for o in outcomes if not hasattr(o, "provider_message_id")]
        if refused:
            raise RuntimeError(f"{len(refused)} refused in the ceiling: {refused[0]}")

    SolapiSender(settings)  # the SDK's imports, before the clock
    ready.wait(timeout=120)
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        list(pool.map(send, starts))
