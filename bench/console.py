"""Console benchmark: the home page, the message search by phone and the campaign list, signed in,
over 1,000,000 messages and 100,000 appointments in PostgreSQL.

    .venv/bin/python -m bench.console                      # 1,000,000 messages, 100,000 appointments
    .venv/bin/python -m bench.console --messages 100000    # smaller, to check it works

Makes its own database ``notifier_bench_<random>`` (dropped at the end) and Redis key prefix,
migrates it (``notifier db upgrade``: the shipped centres and templates), then bulk loads with
``generate_series`` in the database itself: campaigns (2,000 by default, a few running),
messages (80 % of them campaign messages, the rest transactional; phones repeat about five
times each; created over the last 60 days; statuses as a centre sees them), appointments (spread
over two months either side of now). ``ANALYZE`` follows, as autovacuum would.

Then, through the Flask test client of an app built on that database (no network, the same
request path as a served app minus the WSGI server), signed in as a centre's staff member and
as the ministry (every centre: the widest pages), it times the first request to each page
(the home page's first view after a day ends counts and stores that day), then each page
``--requests`` times after a few warm-up requests, and prints first, p50, p95 and max in
milliseconds with the aim (p95 <= 200 ms).
Talks only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from bench.common import percentile, run_notifier, throwaway_environment
from notifier.config import Settings

AIM_P95_MS = 200.0
PASSWORD = "bench password 123"
CENTERS = ("seosan", "gumi", "moel-tf")
PHONE = "010-0000-1234"  # one of the 200,000 phones: each has about five messages per million


def load(dsn: str, messages: int, appointments: int, campaigns: int) -> dict[str, float]:
    """Bulk load the rows in the database itself; return seconds per table."""
    took: dict[str, float] = {}
    centers = "ARRAY['" + "','".join(CENTERS) + "']"
    with psycopg.connect(dsn, autocommit=True) as conn:
        started = time.perf_counter()
        conn.execute(
            f"""
            INSERT INTO campaigns (id, owner, name, template_key, template_version, category, channel,
                center, data, source, status, report, fanout_after, fanned_out, created_at, updated_at,
                started_at, finished_at)
            SELECT md5('c' || i)::uuid::text, 'console', '캠페인 ' || i, 'program_announcement_jobseekers', 1,
                'informational', 'sms',
                json_build_object('code', ({centers})[1 + i %% 3], 'name', '센터'),
                '{{}}'::json, 'csv', CASE WHEN i %% 200 = 0 THEN 'running' ELSE 'finished' END,
                json_build_object('usable', %(per)s, 'rows', %(per)s, 'rejected',
                    json_build_object('count', 0, 'items', '[]'::json), 'duplicates_merged', 0,
                    'excluded_opted_out', 0, 'excluded_no_consent', 0, 'sms', %(per)s, 'lms', 0,
                    'segments', %(per)s, 'email', 0),
                0, true, now() - (i || ' minutes')::interval * 40, now() - (i || ' minutes')::interval * 40,
                now() - (i || ' minutes')::interval * 40, now() - (i || ' minutes')::interval * 39
            FROM generate_series(1, %(n)s) AS i
            """,
            {"n": campaigns, "per": int(messages * 0.8) // max(campaigns, 1)},
        )
        took["campaigns"] = time.perf_counter() - started
        started = time.perf_counter()
        conn.execute(
            f"""
            INSERT INTO messages (id, owner, template_key, template_version, channel, locale, purpose,
                category, lane, to_phone, to_name, sender, center, center_code, data, body, segments,
                kr_class, status, send_at, attempts, provider, error_reason, sandboxed, campaign_id,
                created_at, updated_at)
            SELECT md5('m' || i)::uuid::text, 'console', 'program_announcement_jobseekers', 1, 'sms', 'ko',
                CASE WHEN i %% 5 = 0 THEN 'reminder' ELSE 'announcement' END, 'informational',
                CASE WHEN i %% 5 = 0 THEN 'transactional' ELSE 'bulk' END,
                '+8210' || lpad((i %% 200000)::text, 8, '0'), '', '+82416615676',
                json_build_object('code', ({centers})[1 + i %% 3]), ({centers})[1 + i %% 3], '{{}}'::json,
                '안내 문자', 1, 'SMS',
                (ARRAY['delivered', 'delivered', 'delivered', 'sent', 'failed', 'suppressed',
                       'queued'])[1 + i %% 7],
                t, 1, 'twilio', CASE WHEN i %% 7 = 4 THEN 'unreachable handset' END, false,
                CASE WHEN i %% 5 = 0 THEN NULL
                     ELSE md5('c' || (1 + (i - 1)::bigint * %(campaigns)s / %(n)s))::uuid::text END,
                t, t
            FROM (SELECT i, now() - (i::float / %(n)s) * interval '60 days' AS t
                  FROM generate_series(1, %(n)s) AS i) AS s
            """.replace("i %% 3", "i %% 3")
            .replace("i %% 5", "i %% 5")
            .replace("i %% 7", "i %% 7"),
            {"n": messages, "campaigns": max(campaigns, 1)},
        )
        took["messages"] = time.perf_counter() - started
        started = time.perf_counter()
        conn.execute(
            f"""
            INSERT INTO appointments (id, owner, external_id, revision, request_hash, status, recipient,
                center_code, kind, starts_at, duration_minutes, counselor, location, channels,
                reminder_plan, created_at, updated_at)
            SELECT md5('a' || i)::uuid::text, 'booking', 'bk-' || i, 1, md5('h' || i), 'booked',
                json_build_object('name', '홍길동', 'phone', '+8210' || lpad((i %% 200000)::text, 8, '0')),
                ({centers})[1 + i %% 3], 'in_depth_counseling',
                date_trunc('hour', now()) + ((i - %(n)s / 2) * interval '52 seconds'), 50, '김상담',
                '상담실', '["sms"]'::json, '[]'::json, now(), now()
            FROM generate_series(1, %(n)s) AS i
            """,
            {"n": appointments},
        )
        took["appointments"] = time.perf_counter() - started
        started = time.perf_counter()
        conn.execute("ANALYZE")
        took["analyze"] = time.perf_counter() - started
    return took


def signed_in_client(app, ctx, email: str, role: str, centers: list[str]):  # type: ignore[no-untyped-def]
    from notifier.staff import signin

    signin.create_account(ctx, email, "벤치", role, centers)
    link = signin.issue_reset_link(ctx, email)
    signin.set_password(ctx, link.rsplit("/", 1)[1], PASSWORD, "127.0.0.1")
    client = app.test_client()
    page = client.get("/console/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    answer = client.post("/console/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert answer.status_code == 303, answer.get_data(as_text=True)[:500]
    return client, token


def timed(call, requests: int, warm_up: int = 5) -> dict[str, float]:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    call()  # the first view (the home page's first one stores the closed days' counts)
    first = (time.perf_counter() - started) * 1000
    for _ in range(warm_up - 1):
        call()
    took = []
    for _ in range(requests):
        started = time.perf_counter()
        answer = call()
        took.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, answer.status_code
    took.sort()
    return {"first": first, "p50": percentile(took, 50), "p95": percentile(took, 95), "max": took[-1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--appointments", type=int, default=100_000)
    parser.add_argument("--campaigns", type=int, default=2_000)
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        throwaway_environment(args.pg_url, args.redis_url, Path(tmp), NOTIFIER_LOG_LEVEL="WARNING") as env,
    ):
        run_notifier(env, "db", "upgrade")
        dsn = env["NOTIFIER_DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
        took = load(dsn, args.messages, args.appointments, args.campaigns)
        print("loaded in " + ", ".join(f"{k} {v:.1f} s" for k, v in took.items()), flush=True)
        os.environ.update(env)
        from notifier import create_app

        app = create_app(Settings.from_env(env))
        ctx = app.extensions["notifier"]
        results = {}
        for who, role, centers in (("seosan staff", "staff", ["seosan"]), ("ministry", "ministry", [])):
            client, token = signed_in_client(app, ctx, f"{role}@bench.example.kr", role, centers)
            pages = {
                "home": lambda c=client: c.get("/console/"),
                "message search by phone": lambda c=client, t=token: c.post(
                    "/console/messages", data={"q": PHONE, "csrf_token": t}
                ),
                "campaign list": lambda c=client: c.get("/console/campaigns"),
            }
            for name, call in pages.items():
                results[f"{name} ({who})"] = timed(call, args.requests)
                row = results[f"{name} ({who})"]
                verdict = "ok" if row["p95"] <= AIM_P95_MS else "OVER"
                print(
                    f"{name + ' (' + who + ')':<42} first {row['first']:7.1f}  p50 {row['p50']:7.1f}  "
                    f"p95 {row['p95']:7.1f}  max {row['max']:7.1f} ms  {verdict}",
                    flush=True,
                )
        ctx.engine.dispose()
    print(
        json.dumps(
            {
                "machine": f"{os.cpu_count()} cores, {platform.python_version()}",
                "messages": args.messages,
                "appointments": args.appointments,
                "campaigns": args.campaigns,
                "requests": args.requests,
                "results": results,
            }
        )
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
