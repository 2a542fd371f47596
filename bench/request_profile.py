"""Count the Python work of one ``POST /v1/messages``: calls and CPU per request, in one process.

    .venv/bin/python -m bench.request_profile [--requests 200] [--top 30]

Deterministic where timings on a shared virtual machine are not: the number of function calls
per request does not depend on what else the machine is doing, so two checkouts can be
compared: run this file by its path, so that PYTHONPATH decides which ``notifier`` it measures
(``PYTHONPATH=/tmp/before .venv/bin/python bench/request_profile.py``; with ``-m`` the current
directory's checkout comes first). Makes a
throwaway PostgreSQL database (dropped at the end), builds the app with ``create_app`` and a
publisher that publishes nothing, and posts through Flask's test client.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
import uuid

import psycopg

from notifier import bootstrap, create_app
from notifier.config import Settings
from notifier.storage.db import upgrade

try:  # the layout since the feature packages
    from notifier.bootstrap import load_shipped_data
    from notifier.keys import repository as keys
except ImportError:  # a checkout from before them, for a before/after comparison
    from notifier.services.setup import load_shipped_data  # type: ignore[no-redef]

    from notifier.storage import keys  # type: ignore[no-redef]

PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
BODY = {
    "template": "appointment_confirmation",
    "to": {"phone": "010-1234-5678", "name": "홍길동"},
    "channel": "sms",
    "center": {"code": "seosan"},
    "data": {
        "appointment": {
            "kind": "other",
            "kind_label": "상담",
            "when": "12월 3일(수) 오후 2시",
            "duration": "50분",
            "location": "상담실",
        }
    },
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--top", type=int, default=0, help="print the N most expensive functions")
    parser.add_argument(
        "--plain",
        action="store_true",
        help="no profiler: for counting instructions under valgrind (see docs/benchmarks.md)",
    )
    args = parser.parse_args()
    name = f"notifier_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        settings = Settings.from_env(
            {
                "NOTIFIER_DATABASE_URL": url,
                "NOTIFIER_SECRET_KEY": "bench" * 8,
                "NOTIFIER_DATA_DIR": f"/tmp/{name}",
            }
        )
        ctx = bootstrap.build(settings)
        upgrade(ctx.engine)
        load_shipped_data(ctx)
        with ctx.engine.begin() as conn:
            key = keys.create(conn, "bench", ["send"], ctx.clock())
        app = create_app(ctx=ctx)
        for hook in ("publish", "enqueue"):  # what intake costs, not the broker ("enqueue": before)
            if hasattr(ctx, hook):
                setattr(ctx, hook, lambda lane, ids: None)
        client = app.test_client()
        headers = {"Authorization": f"Bearer {key}"}
        for _ in range(50):  # warm the look-ups and the compiled templates
            client.post("/v1/messages", json=BODY, headers=headers)
        profile = cProfile.Profile()
        started = time.process_time()
        if not args.plain:
            profile.enable()
        for _ in range(args.requests):
            answer = client.post("/v1/messages", json=BODY, headers=headers)
            assert answer.status_code == 202, answer.get_data(as_text=True)
        profile.disable()
        cpu = time.process_time() - started
        if args.plain:
            print(f"{1000 * cpu / max(args.requests, 1):.2f} ms CPU per request (not profiled)")
            ctx.engine.dispose()
            return
        stats = pstats.Stats(profile)
        print(f"{stats.total_calls / args.requests:.0f} function calls per request")  # type: ignore[attr-defined]
        print(f"{1000 * cpu / args.requests:.2f} ms CPU per request (profiled; timings vary, calls do not)")
        if args.top:
            stats.sort_stats("cumulative").print_stats(args.top)
        ctx.engine.dispose()
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
