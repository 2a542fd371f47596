"""Appointments through the API with a pinned clock: what is sent, when, and what never is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from notifier.messages.scheduler import dispatch_due
from notifier.messages.sending import deliver
from notifier.messages.tables import messages
from tests.factories import APPOINTMENTS_NOW

NOW = APPOINTMENTS_NOW  # 10:00 in Seoul


@pytest.fixture
def env(env):
    """The quiet hours the service ships with (the suite's default is none)."""
    return {**env, "NOTIFIER_QUIET_HOURS": "21:00-08:00"}


def booking(**changes):
    body = {
        "recipient": {"name": "홍길동", "phone": "010-1234-5678"},
        "center": "seosan",
        "kind": "in_depth_counseling",
        "starts_at": "2026-12-03T14:00:00+09:00",
        "duration_minutes": 50,
        "counselor": "김상담",
        "location": "서산고용복지+센터 2층 상담실",
        "version": 1,
    }
    body.update(changes)
    return body


def by_purpose(appointment, purpose, status=None):
    return [
        m
        for m in appointment["messages"]
        if m["purpose"] == purpose and (status is None or m["status"] == status)
    ]


def count_messages(ctx) -> int:
    with ctx.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(messages)).scalar_one()


def test_booking_confirms_at_once_and_schedules_reminders_24h_and_2h_before(client, headers, clock) -> None:
    response = client.put("/v1/appointments/bk-1", json=booking(), headers=headers)
    assert response.status_code == 201
    body = response.json
    [confirmation] = by_purpose(body, "confirmation")
    assert (confirmation["status"], confirmation["channel"]) == ("queued", "sms")
    reminders = sorted(m["send_at"] for m in by_purpose(body, "reminder"))
    assert reminders == ["2026-12-02T05:00:00Z", "2026-12-03T03:00:00Z"]
    assert [r["outcome"] for r in body["reminders"]] == ["scheduled", "scheduled"]
    assert body["ends_at"] == "2026-12-03T05:50:00Z"
    assert body["page_url"].startswith("http://127.0.0.1:")


def test_a_reminder_in_quiet_hours_moves_earlier_and_the_choice_is_visible(client, headers, clock) -> None:
    body = client.put(
        "/v1/appointments/bk-2", json=booking(starts_at="2026-12-03T09:00:00+09:00"), headers=headers
    ).json
    outcomes = {r["offset_seconds"]: r for r in body["reminders"]}
    assert outcomes[7200]["outcome"] == "moved_for_quiet_hours"
    assert outcomes[7200]["send_at"].startswith("2026-12-02T11:59:00")  # 20:59 in Seoul, the evening before
    assert "quiet hours" in outcomes[7200]["note"]


def test_no_reminder_is_created_whose_time_has_already_passed(client, headers, clock) -> None:
    soon = (NOW + timedelta(hours=1)).isoformat()
    body = client.put("/v1/appointments/bk-3", json=booking(starts_at=soon), headers=headers).json
    assert by_purpose(body, "reminder") == []
    assert {r["outcome"] for r in body["reminders"]} == {"dropped_past"}
    assert len(by_purpose(body, "confirmation")) == 1


def test_a_booking_made_at_night_is_confirmed_when_quiet_hours_end(client, headers, clock) -> None:
    clock.now = datetime(2026, 12, 1, 13, 30, tzinfo=UTC)  # 22:30 in Seoul
    body = client.put("/v1/appointments/bk-4", json=booking(), headers=headers).json
    [confirmation] = by_purpose(body, "confirmation")
    assert confirmation["status"] == "scheduled"
    assert confirmation["send_at"] == "2026-12-01T23:00:00Z"  # 08:00 in Seoul


def test_a_night_booking_gets_no_reminder_right_after_its_held_back_confirmation(
    client, headers, clock
) -> None:
    clock.now = datetime(2026, 12, 1, 21, 37, tzinfo=UTC)  # 06:37 in Seoul
    body = client.put(
        "/v1/appointments/bk-4b", json=booking(starts_at="2026-12-03T08:20:00+09:00"), headers=headers
    ).json
    [confirmation] = by_purpose(body, "confirmation")
    assert confirmation["send_at"] == "2026-12-01T23:00:00Z"  # 08:00 in Seoul
    outcomes = {r["offset_seconds"]: r["outcome"] for r in body["reminders"]}
    assert outcomes[24 * 3600] == "dropped_too_close"  # it would have come at 08:20, 20 minutes later
    assert [m["send_at"] for m in by_purpose(body, "reminder")] == ["2026-12-02T11:59:00Z"]  # 20:59


def test_replaying_an_identical_request_creates_no_message(client, headers, clock, ctx) -> None:
    first = client.put("/v1/appointments/bk-5", json=booking(), headers=headers)
    before = count_messages(ctx)
    again = client.put("/v1/appointments/bk-5", json=booking(), headers=headers)
    assert again.status_code == 200
    assert again.json["messages"] == first.json["messages"]
    assert count_messages(ctx) == before


def test_an_older_or_equal_version_is_a_409_and_changes_nothing(client, headers, clock, ctx) -> None:
    client.put("/v1/appointments/bk-6", json=booking(version=5), headers=headers)
    before = count_messages(ctx)
    for stale in (5, 4):
        response = client.put(
            "/v1/appointments/bk-6",
            json=booking(version=stale, starts_at="2026-12-04T14:00:00+09:00"),
            headers=headers,
        )
        assert response.status_code == 409
        assert response.mimetype == "application/problem+json"
    shown = client.get("/v1/appointments/bk-6", headers=headers).json
    assert shown["starts_at"] == "2026-12-03T05:00:00Z"
    assert count_messages(ctx) == before


def test_reschedule_cancels_old_reminders_schedules_new_ones_and_sends_a_change_notice(
    client, headers, clock, ctx, twilio
) -> None:
    booked = client.put("/v1/appointments/bk-7", json=booking(), headers=headers).json
    deliver(ctx, by_purpose(booked, "confirmation")[0]["id"])  # the person knows the old time
    moved = client.put(
        "/v1/appointments/bk-7",
        json=booking(version=2, starts_at="2026-12-04T15:00:00+09:00"),
        headers=headers,
    )
    assert moved.status_code == 200
    body = moved.json
    assert body["revision"] == 2
    old_ids = {m["id"] for m in by_purpose(booked, "reminder")}
    assert {m["status"] for m in body["messages"] if m["id"] in old_ids} == {"cancelled"}
    new = by_purpose(body, "reminder", "scheduled")
    assert sorted(m["send_at"] for m in new) == ["2026-12-03T06:00:00Z", "2026-12-04T04:00:00Z"]
    [change] = by_purpose(body, "change")
    deliver(ctx, change["id"])
    assert "변경" in twilio.messages[-1].body
    assert "12월 3일" in twilio.messages[-1].body and "12월 4일" in twilio.messages[-1].body


def test_a_change_before_the_confirmation_went_out_confirms_the_new_time_instead(
    client, headers, clock
) -> None:
    client.put("/v1/appointments/bk-8", json=booking(), headers=headers)
    body = client.put(
        "/v1/appointments/bk-8",
        json=booking(version=2, starts_at="2026-12-04T15:00:00+09:00"),
        headers=headers,
    ).json
    assert by_purpose(body, "change") == []
    assert len(by_purpose(body, "confirmation", "queued")) == 1


def test_a_version_bump_without_visible_change_sends_nothing(client, headers, clock, ctx) -> None:
    client.put("/v1/appointments/bk-9", json=booking(), headers=headers)
    before = count_messages(ctx)
    response = client.put("/v1/appointments/bk-9", json=booking(version=2), headers=headers)
    assert response.status_code == 200
    assert response.json["version"] == 2
    assert count_messages(ctx) == before


def test_cancel_cancels_pending_messages_and_notifies_once(client, headers, clock, ctx) -> None:
    client.put("/v1/appointments/bk-10", json=booking(), headers=headers)
    first = client.delete("/v1/appointments/bk-10", headers=headers)
    assert first.status_code == 200
    assert first.json["status"] == "cancelled"
    assert {m["status"] for m in by_purpose(first.json, "reminder")} == {"cancelled"}
    assert len(by_purpose(first.json, "cancellation")) == 1
    second = client.delete("/v1/appointments/bk-10", headers=headers)
    assert second.json["messages"] == first.json["messages"]
    assert client.put("/v1/appointments/bk-10", json=booking(version=3), headers=headers).status_code == 409


def test_a_reminder_claimed_for_an_old_revision_is_never_sent(client, headers, clock, ctx, twilio) -> None:
    """The worker race: a reminder picked up before the change must not go out after it."""
    from notifier.appointments.tables import appointments
    from notifier.messages import repository as repo

    booked = client.put("/v1/appointments/bk-11", json=booking(), headers=headers).json
    reminder = by_purpose(booked, "reminder")[0]
    clock.now = datetime.fromisoformat(reminder["send_at"].replace("Z", "+00:00"))
    dispatch_due(ctx)  # the reminder is queued: a worker may already hold its task
    with ctx.engine.begin() as conn:  # the booking system's change commits, bypassing the cancel
        conn.execute(appointments.update().values(revision=appointments.c.revision + 1))
    assert deliver(ctx, reminder["id"]).status == "skipped"
    with ctx.engine.connect() as conn:
        row = repo.get(conn, reminder["id"])
        last = repo.history(conn, reminder["id"])[-1]
    assert row["status"] == "cancelled"
    assert "appointment changed" in last["detail"]
    assert twilio.requests == []


def test_a_reminder_is_never_sent_after_the_appointment_started(client, headers, clock, ctx, twilio) -> None:
    booked = client.put("/v1/appointments/bk-12", json=booking(), headers=headers).json
    reminder = by_purpose(booked, "reminder")[-1]
    clock.now = datetime.fromisoformat(reminder["send_at"].replace("Z", "+00:00"))
    dispatch_due(ctx)
    clock.now = datetime(2026, 12, 3, 5, 1, tzinfo=UTC)  # the session began a minute ago
    assert deliver(ctx, reminder["id"]).status == "skipped"
    assert twilio.requests == []


def calendar_events(mail):
    """Every calendar attachment of a received mail, parsed with icalendar: (calendar, event)."""
    found = []
    for part in mail.message.iter_attachments():
        if part.get_content_type() == "text/calendar":
            calendar = Calendar.from_ical(part.get_content())
            [event] = calendar.walk("VEVENT")
            found.append((calendar, event))
    return found


@pytest.mark.parametrize(("locale", "summary"), [("ko", "1:1 심층상담"), ("en", "1:1 in-depth counseling")])
def test_email_confirmation_change_and_cancellation_carry_one_calendar_event(
    client, headers, clock, ctx, smtp, locale, summary
) -> None:
    person = {"name": "홍길동", "email": "hong@example.com", "locale": locale}
    email_only = {"recipient": person, "channels": ["email"]}
    booked = client.put("/v1/appointments/bk-13", json=booking(**email_only), headers=headers).json
    deliver(ctx, by_purpose(booked, "confirmation")[0]["id"])
    moved = client.put(
        "/v1/appointments/bk-13",
        json=booking(**email_only, version=2, location="3층 회의실", starts_at="2026-12-04T10:30:00+09:00"),
        headers=headers,
    ).json
    deliver(ctx, by_purpose(moved, "change")[0]["id"])
    cancelled = client.delete("/v1/appointments/bk-13", headers=headers).json
    deliver(ctx, by_purpose(cancelled, "cancellation")[0]["id"])
    mails = smtp.wait_for_messages(3)
    events = []
    for mail in mails:
        [(calendar, event)] = calendar_events(mail)
        events.append((calendar, event))
        # The start is the appointment's, as an aware time in the centre's zone, with its VTIMEZONE.
        assert event["DTSTART"].params["TZID"] == "Asia/Seoul"
        assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Asia/Seoul"]
        assert event.decoded("DTSTART").utcoffset() is not None
        assert str(event["ORGANIZER"]) == "mailto:noreply@seosan.example.kr"
        assert event["ORGANIZER"].params["CN"] == "서산고용복지+센터"
        assert str(event["ATTENDEE"]) == "mailto:hong@example.com"
        assert event["ATTENDEE"].params["CN"] == "홍길동"
        assert str(event["SUMMARY"]) == f"{summary} - 서산고용복지+센터"
    starts = [event.decoded("DTSTART") for _, event in events]
    assert starts[0] == datetime.fromisoformat("2026-12-03T14:00:00+09:00")
    assert starts[1] == starts[2] == datetime.fromisoformat("2026-12-04T10:30:00+09:00")
    assert [str(c["METHOD"]) for c, _ in events] == ["REQUEST", "REQUEST", "CANCEL"]
    assert len({str(e["UID"]) for _, e in events}) == 1  # one UID: calendars update instead of duplicating
    sequences = [int(e["SEQUENCE"]) for _, e in events]
    assert sequences[0] < sequences[1] < sequences[2]  # so the change updates it and the cancel removes it
    assert [str(e["STATUS"]) for _, e in events] == ["CONFIRMED", "CONFIRMED", "CANCELLED"]


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"starts_at": "2026-12-03T14:00:00"}, "/starts_at"),
        ({"starts_at": "2026-11-30T14:00:00+09:00"}, "/starts_at"),
        ({"center": "atlantis"}, "/center"),
        ({"kind": "astrology"}, "/kind"),
        ({"recipient": {"phone": "044-202-7369"}}, "/recipient/phone"),
        ({"recipient": {"name": "x"}}, "/recipient"),
        ({"channels": ["email"]}, "/recipient/email"),
        ({"duration_minutes": 0}, "/duration_minutes"),
        ({"version": -1}, "/version"),
        ({"location": ""}, "/location"),
    ],
)
def test_invalid_bookings_are_422_naming_the_field_and_change_nothing(
    client, headers, clock, ctx, change, pointer
):
    response = client.put("/v1/appointments/bad", json=booking(**change), headers=headers)
    assert response.status_code == 422, response.json
    assert pointer in {e["pointer"] for e in response.json["errors"]}
    assert client.get("/v1/appointments/bad", headers=headers).status_code == 404
    assert count_messages(ctx) == 0


def test_auth_and_unknown_appointments(client, make_key, clock) -> None:
    assert client.put("/v1/appointments/x", json=booking()).status_code == 401
    sender = {"Authorization": f"Bearer {make_key('send', name='sender')}"}
    assert client.put("/v1/appointments/x", json=booking(), headers=sender).status_code == 403
    own = {"Authorization": f"Bearer {make_key('appointments', name='other-centre')}"}
    assert client.get("/v1/appointments/x", headers=own).status_code == 404
    assert client.delete("/v1/appointments/x", headers=own).status_code == 404


def test_list_by_centre_and_time_range(client, headers, clock) -> None:
    client.put("/v1/appointments/a", json=booking(), headers=headers)
    client.put(
        "/v1/appointments/b",
        json=booking(center="gumi", starts_at="2026-12-05T10:00:00+09:00"),
        headers=headers,
    )
    listed = client.get("/v1/appointments", query_string={"center": "gumi"}, headers=headers).json["items"]
    assert [a["external_id"] for a in listed] == ["b"]
    window = {"from": "2026-12-03T00:00:00+09:00", "to": "2026-12-04T00:00:00+09:00"}
    assert [
        a["external_id"]
        for a in client.get("/v1/appointments", query_string=window, headers=headers).json["items"]
    ] == ["a"]
    naive = client.get("/v1/appointments", query_string={"from": "2026-12-03T00:00:00"}, headers=headers)
    assert naive.status_code == 422


def test_a_versioned_appointment_refuses_a_change_without_a_version(client, headers, clock, ctx) -> None:
    client.put("/v1/appointments/v-1", json=booking(version=3), headers=headers)
    unversioned = {k: v for k, v in booking(starts_at="2026-12-04T14:00:00+09:00").items() if k != "version"}
    assert client.put("/v1/appointments/v-1", json=unversioned, headers=headers).status_code == 409
    assert client.get("/v1/appointments/v-1", headers=headers).json["starts_at"] == "2026-12-03T05:00:00Z"


def test_a_reminder_that_reaches_its_claim_in_quiet_hours_is_dropped(
    client, headers, clock, ctx, twilio
) -> None:
    body = client.put(
        "/v1/appointments/q-1", json=booking(starts_at="2026-12-03T09:00:00+09:00"), headers=headers
    ).json
    moved = next(
        m
        for m in body["messages"]
        if m["purpose"] == "reminder" and m["send_at"].startswith("2026-12-02T11:59")
    )
    clock.now = datetime.fromisoformat(moved["send_at"].replace("Z", "+00:00"))
    dispatch_due(ctx)
    clock.advance(2 * 60)  # a backlog: the worker gets to it at 21:01
    assert deliver(ctx, moved["id"]).status == "skipped"
    shown = client.get("/v1/appointments/q-1", headers=headers).json
    assert next(m for m in shown["messages"] if m["id"] == moved["id"])["status"] == "expired"
    assert twilio.requests == []
