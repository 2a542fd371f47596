"""Retention of appointments: NOTIFIER_RETENTION_DAYS after its start, nobody can be named or
reached through an appointment any more; the appointment, its outcome and its short link stay.

Read from the outside: the appointment as the API answers it, the short link the SMS carried
as a person following it gets it, and the log line.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from notifier.appointments import retention
from notifier.messages.scheduler import tick
from tests.integration.test_appointments_api import booking
from tests.integration.test_attendance_api import AFTER, STARTS, outcome
from tests.integration.test_short_links import sms_links


def test_contacts_are_blanked_after_the_retention_and_the_appointment_and_its_outcome_stay(
    client, headers, clock, ctx, twilio, caplog
) -> None:
    old, codes = sms_links(client, headers, clock, ctx, twilio, "old")
    clock.now = AFTER
    assert outcome(client, headers, "old", "attended").status_code == 200
    clock.now = STARTS + timedelta(days=ctx.settings.retention_days, minutes=1)
    recent = booking(starts_at=(clock.now + timedelta(days=1)).isoformat())
    assert client.put("/v1/appointments/recent", json=recent, headers=headers).status_code == 201

    with caplog.at_level(logging.INFO, logger="notifier.retention"):
        report = tick(ctx)  # the scheduler's round runs the feature's hook

    assert report.extra["appointment_contacts_blanked"] == 1
    after = client.get("/v1/appointments/old", headers=headers).json
    assert after["recipient"] == {**old["recipient"], "name": "", "phone": None, "email": None}
    assert (after["status"], after["starts_at"]) == ("booked", old["starts_at"])
    assert after["outcome"]["outcome"] == "attended"
    assert after["counselor"] == old["counselor"]
    expired = client.get(f"/s/{codes[0]}")  # an old SMS still says what happened, and whom to call
    assert expired.status_code == 410 and "041-661-5676" in expired.get_data(as_text=True)
    kept = client.get("/v1/appointments/recent", headers=headers).json["recipient"]
    assert (kept["name"], kept["phone"]) == ("홍길동", "010-1234-5678")
    logged = [r for r in caplog.records if r.message == "retention: blanked the contacts of old appointments"]
    assert [r.appointments for r in logged] == [1]
    assert "홍길동" not in caplog.text and "1234-5678" not in caplog.text


def test_a_pass_is_bounded_and_the_next_one_takes_the_rest(client, headers, clock, ctx, monkeypatch) -> None:
    for n in range(5):
        assert client.put(f"/v1/appointments/b{n}", json=booking(), headers=headers).status_code == 201
    clock.now = STARTS + timedelta(days=ctx.settings.retention_days, minutes=1)
    monkeypatch.setattr(retention, "BATCH", 2)
    monkeypatch.setattr(retention, "BATCHES_PER_TICK", 2)

    first, second = retention.blank_old_contacts(ctx), retention.blank_old_contacts(ctx)
    assert first == {"appointment_contacts_blanked": 4}
    assert second == {"appointment_contacts_blanked": 1}
    assert retention.blank_old_contacts(ctx) == {}  # a short pass waits before the next scan

    for n in range(5):
        assert client.get(f"/v1/appointments/b{n}", headers=headers).json["recipient"]["name"] == ""


def test_a_change_after_the_blanking_gives_the_contacts_again_until_the_new_time_is_old_too(
    client, headers, clock, ctx
) -> None:
    assert client.put("/v1/appointments/moved", json=booking(), headers=headers).status_code == 201
    clock.now = STARTS + timedelta(days=ctx.settings.retention_days, minutes=1)
    assert retention.blank_old_contacts(ctx) == {"appointment_contacts_blanked": 1}
    ctx.memo.clear()  # the next pass is due

    later = (clock.now + timedelta(days=3)).isoformat()
    moved = client.put("/v1/appointments/moved", json=booking(starts_at=later, version=2), headers=headers)

    assert moved.status_code == 200, moved.json
    assert moved.json["recipient"]["phone"] == "010-1234-5678"  # stored as the booking system wrote it
    assert retention.blank_old_contacts(ctx) == {}
    assert client.get("/v1/appointments/moved", headers=headers).json["recipient"]["name"] == "홍길동"
    clock.now += timedelta(days=3 + ctx.settings.retention_days, minutes=1)
    ctx.memo.clear()
    assert retention.blank_old_contacts(ctx)["appointment_contacts_blanked"] == 1
    assert client.get("/v1/appointments/moved", headers=headers).json["recipient"]["phone"] is None
