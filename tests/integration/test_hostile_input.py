"""Input a hostile or careless client sends gets a 4xx problem+json and changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from notifier.appointments.tables import appointments
from notifier.messages.tables import messages
from tests.factories import message_body
from tests.integration.test_appointments_api import NOW, booking
from tests.integration.test_delivery import FrozenClock

PROBLEM = "application/problem+json"
CALENDAR_EDGES = ["0001-01-01T08:59:59+09:00", "9999-12-31T23:59:59-12:00", "1969-12-31T23:59:59Z"]
UNIX_TIMES = ["1800000000", 1800000000, 0, "0", 1.5e9]


@pytest.fixture
def pinned(ctx):
    ctx.clock = FrozenClock(NOW)  # before the appointments the tests book
    return ctx


@pytest.fixture
def headers(make_key):
    return {"Authorization": f"Bearer {make_key('send', 'appointments')}"}


def rows(ctx) -> tuple[int, int]:
    with ctx.engine.connect() as conn:
        return (
            conn.execute(select(func.count()).select_from(messages)).scalar_one(),
            conn.execute(select(func.count()).select_from(appointments)).scalar_one(),
        )


def refused(answer, pointer: str) -> None:
    assert answer.status_code == 422, answer.get_data(as_text=True)
    assert answer.headers["Content-Type"] == PROBLEM
    assert pointer in [e["pointer"] for e in answer.json["errors"]], answer.json


@pytest.mark.parametrize("when", UNIX_TIMES + CALENDAR_EDGES)
def test_a_send_at_that_is_not_an_iso_time_in_range_is_refused(client, ctx, headers, when) -> None:
    before = rows(ctx)
    refused(client.post("/v1/messages", json=message_body(send_at=when), headers=headers), "/send_at")
    assert rows(ctx) == before


@pytest.mark.parametrize("when", UNIX_TIMES + CALENDAR_EDGES)
def test_an_appointment_start_that_is_not_an_iso_time_in_range_is_refused(client, ctx, headers, when) -> None:
    before = rows(ctx)
    answer = client.put("/v1/appointments/edge-1", json=booking(starts_at=when), headers=headers)
    refused(answer, "/starts_at")
    assert rows(ctx) == before


@pytest.mark.parametrize("bound", ["from", "to"])
@pytest.mark.parametrize("when", ["0.5", "1800000000", *CALENDAR_EDGES])
def test_appointment_queries_take_only_iso_times_in_range(client, headers, bound, when) -> None:
    refused(client.get("/v1/appointments", query_string={bound: when}, headers=headers), f"/{bound}")


def test_an_appointment_version_beyond_the_column_is_refused(client, ctx, pinned, headers) -> None:
    before = rows(ctx)
    answer = client.put("/v1/appointments/edge-2", json=booking(version=2**31), headers=headers)
    refused(answer, "/version")
    assert rows(ctx) == before
    largest = client.put("/v1/appointments/edge-3", json=booking(version=2**31 - 1), headers=headers)
    assert largest.status_code == 201, largest.json


def test_iso_times_with_an_offset_are_still_accepted(client, pinned, headers) -> None:
    for when in ["2026-12-03T14:00:00+09:00", "2026-12-03T05:00:00Z", "2026-12-03T14:00+09:00"]:
        answer = client.put(
            "/v1/appointments/iso-ok", json=booking(starts_at=when, version=None), headers=headers
        )
        assert answer.status_code in (200, 201), answer.json


def test_an_appointment_id_longer_than_its_messages_reference_can_hold_is_refused(
    client, ctx, pinned, headers
) -> None:
    before = rows(ctx)
    for length in (189, 200, 201):
        answer = client.put(f"/v1/appointments/{'a' * length}", json=booking(), headers=headers)
        refused(answer, "/external_id")
    assert rows(ctx) == before
    longest = client.put(f"/v1/appointments/{'a' * 188}", json=booking(), headers=headers)
    assert longest.status_code == 201, longest.json
    assert rows(ctx)[0] > before[0]  # its messages carry the whole reference
