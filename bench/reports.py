"""Attendance report benchmark: a year's report over 1,000,000 appointments.

    .venv/bin/python -m bench.reports                        # 1,000,000 appointments, 5 runs
    .venv/bin/python -m bench.reports --appointments 100000  # a smaller table
    .venv/bin/python -m bench.reports --quick                # 50,000, to check it works
    .venv/bin/python -m bench.reports --group-by weekday,hour  # another grouping

Makes its own PostgreSQL database ``notifier_bench_<random>`` (dropped at the end), brings it
to the current schema with the migrations, and fills ``appointments`` in one
``INSERT ... SELECT FROM generate_series`` inside PostgreSQL: 130 centres, the six kinds,
starts spread evenly over two years, outcomes known for 85 % (about one in eight a no-show),
a lead time of 0 to 40 days, one in three confirmed on their page. Then ``VACUUM ANALYZE``, as
autovacuum would after a load, so the visibility map lets the report read the index alone.

It times ``reports.attendance_report`` (the use case behind ``GET /v1/reports/attendance``)
for the last year, all centres, grouped by centre and kind (780 groups, about 500,000 rows
read), ``--runs`` times after one warm-up, and prints the median and the slowest, with the
plan PostgreSQL chose. Uses no Redis and no network beyond 127.0.0.1.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from bench.common import migrated_engine, throwaway_database
from notifier import bootstrap
from notifier.attendance import reports
from notifier.config import Settings

CENTRES = 130
END = datetime(2026, 12, 1, tzinfo=UTC)
SPAN_DAYS = 730  # starts spread over two years before END: a year's report reads half

LOAD = """
INSERT INTO appointments (
    id, owner, external_id, version, revision, request_hash, status, recipient, center_code,
    kind, starts_at, duration_minutes, counselor, location, channels, reminder_plan,
    attendance, attendance_at, created_at, updated_at, cancelled_at, channels_key, lead_days,
    reminder_plan_name, outcome, outcome_revision, outcome_recorded_at
)
SELECT
    md5(n::text)::uuid::text, 'bench', 'a-' || n, 1, 1, md5(n::text), 'booked', '{}'::json,
    'c' || lpad((n % :centres)::text, 3, '0'),
    (ARRAY['in_depth_counseling', 'psychological_support', 'competency_assessment',
           'interview_resume_consulting', 'employer_consulting', 'other'])[1 + (n / 7) % 6],
    s.starts_at, 50, '', '상담실', '["sms"]'::json, '[]'::json,
    CASE WHEN n % 3 = 0 THEN 'confirmed' END, NULL,
    s.starts_at - make_interval(days => n % 41), s.starts_at, NULL, 'sms', n % 41,
    CASE WHEN n % 2 = 0 THEN '24h,2h' ELSE '48h,3h' END,
    CASE WHEN n % 20 < 3 THEN NULL WHEN n % 8 = 0 THEN 'no_show'
         WHEN n % 31 = 0 THEN 'late_cancellation' ELSE 'attended' END,
    1, s.starts_at + interval '1 hour'
FROM generate_series(1, :count) AS n,
LATERAL (SELECT :end - make_interval(secs => (n::bigint * 7919 % (:span * 86400))::double precision)
         AS starts_at) AS s
"""


def load(engine, count: int) -> float:
    began = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(text(LOAD), {"centres": CENTRES, "count": count, "end": END, "span": SPAN_DAYS})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE appointments"))
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--appointments", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="50,000 appointments")
    parser.add_argument(
        "--group-by", default="center,kind", help=f"comma-separated, of {', '.join(reports.GROUP_KEYS)}"
    )
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    count = 50_000 if args.quick else args.appointments
    with throwaway_database(args.pg_url) as url:
        engine = migrated_engine(url)
        settings = Settings.from_env({"NOTIFIER_DATABASE_URL": url, "NOTIFIER_SECRET_KEY": "bench"})
        ctx = bootstrap.build(settings, engine=engine, clock=lambda: END)
        loaded = load(engine, count)
        print(f"loaded {count:,} appointments in {loaded:.1f} s (with VACUUM ANALYZE)")
        start = END - timedelta(days=365)
        group_by = [key for key in reports.GROUP_KEYS if key in args.group_by.split(",")]

        def one() -> tuple[float, int]:
            began = time.perf_counter()
            report = reports.attendance_report(ctx, group_by, start, END)
            return time.perf_counter() - began, len(report.rows)

        one()  # warm-up: the first run also reads the index from disk into the cache
        timings, groups = [], 0
        for _ in range(args.runs):
            seconds, groups = one()
            timings.append(seconds)
        with engine.connect() as conn:
            query = reports.counts_query(conn, group_by, start, END)
            compiled = query.compile(engine, compile_kwargs={"literal_binds": True})
            # The compiled SQL escapes % for the driver; text() escapes it again, so undo it once.
            explain = text(f"EXPLAIN (ANALYZE, BUFFERS) {compiled}".replace("%%", "%"))
            plan = [r[0] for r in conn.execute(explain)]
            rows_read = conn.execute(
                text("SELECT count(*) FROM appointments WHERE starts_at >= :s AND starts_at < :e"),
                {"s": start, "e": END},
            ).scalar_one()
        by = " and ".join(group_by) or "nothing"
        print(f"report: a year ({rows_read:,} appointments), all centres, by {by}: {groups} groups")
        print(
            f"median {statistics.median(timings) * 1000:.0f} ms, slowest {max(timings) * 1000:.0f} ms "
            f"over {args.runs} runs (after one warm-up)"
        )
        print(
            f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}"
        )
        print("plan:\n  " + "\n  ".join(plan))
        engine.dispose()


if __name__ == "__main__":
    main()
