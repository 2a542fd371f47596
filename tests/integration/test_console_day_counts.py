"""The home page's stored counts of closed days: counted once, read afterwards, counted again
while the day may still change (for at most REFRESH), frozen once settled; today always live."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from notifier.messages.day_counts import REFRESH, daily_counts
from notifier.messages.tables import message_day_counts, messages
from tests.factories import message_body


def send(client, auth, center: str) -> str:
    body = message_body(center={"code": center})
    answer = client.post("/v1/messages", json=body, headers=auth)
    assert answer.status_code == 202, answer.json
    return answer.json["id"]


def move(ctx, message_id: str, **values) -> None:
    with ctx.engine.begin() as conn:
        conn.execute(update(messages).where(messages.c.id == message_id).values(**values))


def stored_rows(ctx) -> int:
    with ctx.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(message_day_counts)).scalar_one()


def test_closed_days_are_stored_refreshed_while_unsettled_and_today_is_live(ctx, client, auth) -> None:
    now, zone = ctx.clock(), ctx.settings.timezone
    yesterday = send(client, auth, "seosan")
    last_week = send(client, auth, "gumi")
    today = send(client, auth, "seosan")
    move(ctx, yesterday, status="delivered", created_at=now - timedelta(days=1))
    move(ctx, last_week, status="failed", created_at=now - timedelta(days=6))
    move(ctx, today, status="sent")
    days = daily_counts(ctx.engine, None, now, zone)
    assert days[-2].by_channel["sms"] == {"sent": 1, "delivered": 1, "failed": 0, "suppressed": 0}
    assert days[-7].by_channel["sms"]["failed"] == 1
    assert days[-1].by_channel["sms"]["sent"] == 1  # today, live
    assert stored_rows(ctx) == 2  # one row per closed day, centre and channel with messages
    seosan = daily_counts(ctx.engine, {"seosan"}, now, zone)
    assert seosan[-7].by_channel["sms"]["failed"] == 0 and seosan[-2].by_channel["sms"]["delivered"] == 1

    # A late status change: read from storage until REFRESH has passed, then counted again.
    move(ctx, yesterday, status="failed")
    move(ctx, today, status="failed")
    again = daily_counts(ctx.engine, None, now + timedelta(minutes=1), zone)
    assert again[-2].by_channel["sms"]["delivered"] == 1  # stored
    assert again[-1].by_channel["sms"]["failed"] == 1  # today is live
    later = daily_counts(ctx.engine, None, now + REFRESH + timedelta(minutes=1), zone)
    assert later[-2].by_channel["sms"]["failed"] == 1 and later[-2].by_channel["sms"]["delivered"] == 0

    # A day settled when it was stored stays as stored.
    move(ctx, last_week, status="delivered")
    frozen = daily_counts(ctx.engine, None, now + REFRESH * 3, zone)
    assert frozen[-7].by_channel["sms"]["failed"] == 1
