"""PostgreSQL's work for a campaign message's stored life: created, claimed, sent.

    .venv/bin/python -m bench.message_life                  # 100,000 messages, both schemas
    .venv/bin/python -m bench.message_life --quick          # 20,000

Every message the service sends is written three times, each with its history entry: created
``queued`` by the fan-out (1,000 per statement), claimed ``sending`` with its rendered text
(500 per statement, a send-many batch) and recorded ``sent`` with the provider's id (500 per
statement). This runs exactly those statements (``messages.batches.insert_new`` and
``transition_each``, as the fan-out, the claim and the outcomes call them) on rows shaped like
a campaign's, nothing else: no queue, no provider, no reads. It reports the CPU the PostgreSQL
backend spent per message (user + system time of the connection's server process, from
``/proc``), per step and in all, and the client's CPU.

Two schemas: the service's (every index the migrations make: the console's searches, the
lookups of provider reports, the scheduler's), and the same tables with their primary keys
only, the least any design that keeps a row and a history per message would write.

It answers how much of the SOLAPI path's CPU per message (``bench.campaign``) is storage the
service cannot do without. Makes its own database ``notifier_bench_<random>`` (dropped at the
end); talks only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, text

from bench.common import migrated_engine, throwaway_database
from notifier.domain.message_status import Status
from notifier.messages.batches import insert_new, transition_each

FAN_OUT = 1000  # messages a fan-out statement creates
BATCH = 500  # messages a send-many call carries (NOTIFIER_SOLAPI_BATCH_SIZE's default)
CENTER = {"code": "seosan", "name": "서산고용복지+센터", "phone": "041-661-5676"}
BODY = (
    "(광고)[서산고용복지+센터] {name}님, 기업·구직자 도약보장패키지 참여자를 모집합니다. "
    "1:1 심층상담, 심리안정 지원, 직업역량 진단, 면접·이력서 컨설팅. 문의 041-661-5676 "
    "무료수신거부 080-000-0000"
)


def backend_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rpartition(")")[2].split()  # noqa: SIM115
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def campaign_rows(start: int, count: int, campaign: str, now: datetime) -> list[dict[str, Any]]:
    """New campaign messages as the fan-out stores them: queued, not yet rendered."""
    return [
        {
            "id": str(uuid.uuid4()),
            "owner": "bench",
            "template_key": "program_announcement_jobseekers",
            "template_version": 1,
            "channel": "sms",
            "locale": "ko",
            "purpose": "message",
            "category": "advertising",
            "lane": "bulk",
            "to_phone": f"+82105{n:07d}",
            "to_email": None,
            "to_name": f"참여자{n}",
            "sender": "+82416615676",
            "center": CENTER,
            "center_code": "seosan",
            "data": {"name": f"참여자{n}", "external_id": f"r{n}"},
            "subject": None,
            "body": None,
            "html": None,
            "attachments": None,
            "segments": None,
            "kr_class": None,
            "status": Status.QUEUED.value,
            "reference": None,
            "send_at": now,
            "expires_at": now + timedelta(days=2),
            "enqueued_at": now,
            "claimed_at": None,
            "attempts": 0,
            "provider": None,
            "provider_message_id": None,
            "error_code": None,
            "error_reason": None,
            "sandboxed": False,
            "delivered_via": None,
            "appointment_id": None,
            "appointment_revision": None,
            "campaign_id": campaign,
            "created_at": now,
            "updated_at": now,
        }
        for n in range(start, start + count)
    ]


def life(conn: Connection, count: int) -> dict[str, float]:
    """Create, claim and send ``count`` messages; the backend's CPU seconds per step, and the client's."""
    pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    conn.commit()
    spent = {"created": 0.0, "claimed": 0.0, "sent": 0.0}
    campaign = str(uuid.uuid4())
    client = time.process_time()

    def step(name: str, work: Callable[[], object]) -> None:
        before = backend_seconds(pid)
        work()
        conn.commit()
        spent[name] += backend_seconds(pid) - before

    for start in range(0, count, FAN_OUT):
        now = datetime.now(UTC)
        rows = campaign_rows(start, min(FAN_OUT, count - start), campaign, now)
        step("created", lambda rows=rows, now=now: insert_new(conn, rows, now, {}))
        ids = [row["id"] for row in rows]
        for first in range(0, len(ids), BATCH):
            batch = ids[first : first + BATCH]
            claimed = {
                i: {
                    "claimed_at": now,
                    "attempts": 1,
                    "provider": "solapi",
                    "body": BODY.format(name=f"참여자{n}"),
                    "segments": 1,
                    "kr_class": "LMS",
                }
                for n, i in enumerate(batch, start=start + first)
            }
            # SOLAPI's ids begin with the time they were made (M4V20261205013000...), as the fake's.
            sent = {i: {"provider_message_id": f"M4V{now:%Y%m%d%H%M%S}{i[:15].upper()}"} for i in batch}
            step(
                "claimed",
                lambda claimed=claimed, now=now: transition_each(conn, Status.SENDING, now, claimed),
            )
            step(
                "sent",
                lambda sent=sent, now=now: transition_each(conn, Status.SENT, now, sent, only_claimed_at=now),
            )
    return {**spent, "client": time.process_time() - client}


def keys_only(conn: Connection) -> None:
    """Drop every index of the two tables that is not their primary key."""
    found = conn.execute(
        text(
            "SELECT i.indexrelid::regclass::text FROM pg_index i "
            "WHERE i.indrelid IN ('messages'::regclass, 'message_events'::regclass) AND NOT i.indisprimary"
        )
    ).scalars()
    for name in list(found):
        conn.execute(text(f"DROP INDEX {name}"))
    conn.commit()


def report(name: str, count: int, spent: dict[str, float]) -> str:
    server = spent["created"] + spent["claimed"] + spent["sent"]
    per = {key: value * 1000 / count for key, value in spent.items()}
    return (
        f"| {name} | {per['created']:.3f} | {per['claimed']:.3f} | {per['sent']:.3f} | "
        f"**{server * 1000 / count:.3f}** | {per['client']:.3f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="20,000 messages")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    count = 20_000 if args.quick else args.messages
    with throwaway_database(args.pg_url) as url:
        engine = migrated_engine(url)
        lines = [
            "| schema | created | claimed | sent | PostgreSQL, in all | client |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        with engine.connect() as conn:
            version = conn.execute(text("SHOW server_version")).scalar_one()
            life(conn, min(count, 5 * FAN_OUT))  # warm-up: statements prepared, caches filled
            conn.execute(text("TRUNCATE messages CASCADE"))
            conn.commit()
            lines.append(report("the service's (every index)", count, life(conn, count)))
            conn.execute(text("TRUNCATE messages CASCADE"))
            keys_only(conn)
            lines.append(report("primary keys only", count, life(conn, count)))
        engine.dispose()
    print(f"CPU ms per message, {count:,} messages; PostgreSQL {version}, ", end="")
    print(f"{os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
