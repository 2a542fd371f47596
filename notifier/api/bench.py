"""A bare endpoint for benchmarks: the least work a request that queues something can do.

``bench/intake.py`` compares ``POST /v1/messages`` with ``POST /bench/bare`` on the same
gunicorn server; the gap is what validation, rendering and the database cost. Registered only
when ``NOTIFIER_BENCH_ENDPOINTS=1``, never in production.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import redis
from flask import Blueprint, current_app

from notifier.api.context import context

bp = Blueprint("bench", __name__, url_prefix="/bench")

BARE_LIST = "bench:bare"


def bench_redis() -> redis.Redis:
    """This process's client for the broker's Redis, made on first use."""
    client = current_app.extensions.get("bench_redis")
    if client is None:
        client = redis.Redis.from_url(context().settings.broker_url)
        client = current_app.extensions.setdefault("bench_redis", client)
    assert isinstance(client, redis.Redis)
    return client


@bp.post("/bare")
def bare() -> tuple[dict[str, Any], int]:
    item = json.dumps({"id": str(uuid.uuid4()), "at": time.time()})
    bench_redis().lpush(context().settings.broker_key_prefix + BARE_LIST, item)
    return {"ok": True}, 202
