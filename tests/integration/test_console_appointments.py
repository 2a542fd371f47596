"""The console's appointment page: a centre's day with each appointment's reminder plan, what
was sent and the person's answer, personal data masked; another centre's day or appointment is
a 404; a bad day is a Korean problem page."""

from __future__ import annotations

import pytest

from notifier.appointments import repository as appointment_repo
from notifier.appointments.page import record_answer
from tests.console import csrf_of, make_staff, sign_in
from tests.factories import APPOINTMENTS_NOW

NOW = APPOINTMENTS_NOW  # 10:00 in Seoul


@pytest.fixture
def booked(client, make_key, clock):
    headers = {"Authorization": f"Bearer {make_key('appointments')}"}

    def book(external_id: str, center: str, phone: str, name: str = "홍길동") -> str:
        body = {
            "recipient": {"name": name, "phone": phone, "email": "hong@example.com"},
            "center": center,
            "kind": "in_depth_counseling",
            "starts_at": "2026-12-03T14:00:00+09:00",
            "duration_minutes": 50,
            "counselor": "김상담",
            "location": "2층 상담실",
        }
        answer = client.put(f"/v1/appointments/{external_id}", json=body, headers=headers)
        assert answer.status_code == 201, answer.json
        return answer.json["id"]

    return book


def test_a_centres_day_shows_plan_messages_and_answer_masked(ctx, client, booked) -> None:
    mine = booked("bk-1", "seosan", "010-2345-6789")
    booked("bk-2", "gumi", "010-8765-4321", name="김철수")
    with ctx.engine.connect() as conn:
        appointment = appointment_repo.get(conn, mine)
    record_answer(ctx, appointment, "confirm")
    make_staff(ctx, "kim@seosan.example.kr")
    sign_in(client, "kim@seosan.example.kr")
    html = client.get("/console/appointments?center=seosan&day=2026-12-03").get_data(as_text=True)
    assert "홍*동" in html and "010-****-6789" in html and "h***@example.com" in html
    assert "홍길동" not in html and "2345-6789" not in html and "hong@" not in html
    assert "참석 확인" in html  # the person's answer
    assert "확인 안내 · 문자 · 대기 중" in html  # what was sent (the workers are not running)
    assert "24시간 전 · 예약됨" in html  # the reminder plan
    assert "김*수" not in html and "4321" not in html  # not the other centre's
    detail = client.get(f"/console/appointments/{mine}").get_data(as_text=True)
    assert "홍*동" in detail and "참석 확인" in detail


def test_another_centres_day_and_appointment_are_not_found(ctx, client, booked) -> None:
    theirs = booked("bk-2", "gumi", "010-8765-4321")
    make_staff(ctx, "kim@seosan.example.kr")
    make_staff(ctx, "boss@seosan.example.kr", role="manager")
    for email in ("kim@seosan.example.kr", "boss@seosan.example.kr"):
        sign_in(client, email)
        assert client.get("/console/appointments?center=gumi&day=2026-12-03").status_code == 404
        assert client.get(f"/console/appointments/{theirs}").status_code == 404
        assert client.get("/console/appointments/no-such-id").status_code == 404
    make_staff(ctx, "moel@moel.example.kr", role="ministry", centers=[])
    sign_in(client, "moel@moel.example.kr")
    assert client.get(f"/console/appointments/{theirs}").status_code == 200


def test_a_bad_day_is_a_korean_problem_page(ctx, client, clock) -> None:
    make_staff(ctx, "kim@seosan.example.kr")
    sign_in(client, "kim@seosan.example.kr")
    bad = client.get("/console/appointments?center=seosan&day=3%20Dec")
    assert bad.status_code == 422 and "YYYY-MM-DD" in bad.get_data(as_text=True)
    assert client.get("/console/appointments").status_code == 200  # today at the first centre


def test_the_appointment_page_carries_the_outcome_form_and_shows_what_was_recorded(
    ctx, client, booked
) -> None:
    mine = booked("bk-3", "seosan", "010-2345-6789")
    make_staff(ctx, "kim@seosan.example.kr")
    sign_in(client, "kim@seosan.example.kr")
    page = f"/console/appointments/{mine}"
    html = client.get(page).get_data(as_text=True)
    assert f'action="/console/appointments/{mine}/outcome"' in html and 'name="outcome"' in html
    answer = client.post(
        f"{page}/outcome",
        data={"outcome": "late_cancellation", "next": page, "csrf_token": csrf_of(html)},
    )
    assert answer.status_code == 303 and answer.headers["Location"] == page
    assert "직전 취소 · " in client.get(page).get_data(as_text=True)  # recorded, with its time
