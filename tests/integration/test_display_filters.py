"""Clients may send ISO times and minutes: the shipped templates show them as the person reads them."""

from __future__ import annotations

from notifier.messages.sending import deliver
from tests.factories import appointment_data, message_body

PROBLEM = "application/problem+json"
# 14:00 in Seoul on Thursday 3 December 2026, written in UTC as a booking system might.
ISO = {"when": None, "duration": None, "starts_at": "2026-12-03T05:00:00Z", "duration_minutes": 90}


def iso_data(**changes):
    data = appointment_data(**{**ISO, **changes})
    data["appointment"] = {k: v for k, v in data["appointment"].items() if v is not None}
    return data


def sent_body(client, auth, ctx, twilio, body) -> str:
    response = client.post("/v1/messages", json=body, headers=auth)
    assert response.status_code == 202, response.json
    assert deliver(ctx, response.json["id"]).status == "sent"
    [message] = twilio.messages
    return message.body


def test_an_iso_start_and_minutes_reach_the_phone_in_korean_in_seoul_time(client, auth, ctx, twilio) -> None:
    body = sent_body(client, auth, ctx, twilio, message_body(center={"code": "seosan"}, data=iso_data()))
    assert "일시: 12월 3일(목) 오후 2시 (약 1시간 30분)" in body
    assert "2026-12-03" not in body and "05:00" not in body


def test_an_english_recipient_reads_the_same_start_in_english(client, auth, ctx, twilio) -> None:
    to = {"phone": "010-1234-5678", "name": "Jane", "locale": "en"}
    data = iso_data(kind_label="1:1 in-depth counseling")
    body = sent_body(client, auth, ctx, twilio, message_body(to=to, center={"code": "seosan"}, data=data))
    assert "Thu 3 Dec, 2:00 PM (about 1 hour 30 minutes)" in body


def test_a_preformatted_when_is_still_shown_as_given(client, auth, ctx, twilio) -> None:
    body = sent_body(client, auth, ctx, twilio, message_body())
    assert "12월 3일(수) 오후 2시" in body and "50분" in body


def test_neither_when_nor_starts_at_is_a_422_naming_both(client, auth) -> None:
    data = appointment_data(when=None, duration="50분")
    data["appointment"].pop("when")
    response = client.post("/v1/messages", json=message_body(data=data), headers=auth)
    assert (response.status_code, response.mimetype) == (422, PROBLEM)
    assert response.json["detail"] == "the data has no value for appointment/when or appointment/starts_at"
    assert [e["pointer"] for e in response.json["errors"]] == ["/data/appointment/when"]


def test_a_start_without_a_utc_offset_is_refused_not_guessed(client, auth) -> None:
    response = client.post(
        "/v1/messages", json=message_body(data=iso_data(starts_at="2026-12-03T14:00:00")), headers=auth
    )
    assert response.status_code == 422
    assert "UTC offset" in response.json["detail"]
