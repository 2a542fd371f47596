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

from flask import Blueprint

from notifier.api.context import context

bp = Blueprint("bench", __name__, url_prefix="/bench")

BARE_LIST = "bench:bare"


@bp.post("/bare")
def bare() -> tuple[dict[str, Any], int]:
    item = json.dumps({"id": str(uuid.uuid4()), "at": time.time()})
    ctx = context()
    if ctx.redis is None:  # the benchmark runs the API on a Redis broker
        raise RuntimeError("the bare endpoint needs a Redis broker")
    ctx.redis.lpush(ctx.settings.broker_key_prefix + BARE_LIST, item)
    return {"ok": True}, 202
