"""Every time the console shows is Korea time (the service's zone), written as the messages and
audit pages write it: the reminder plan next to what was sent, a campaign's creation, a
template's versions, an API key's creation and last use. The clock stands at 01:00 UTC, 10:00
in Seoul."""

from __future__ import annotations

import re
from datetime import timedelta

from notifier.keys import repository as key_repo
from tests.console import make_staff, sign_in
from tests.integration.test_console_appointments import booked  # noqa: F401  (a fixture)
from tests.integration.test_console_campaigns import created_id, upload
from tests.integration.test_console_templates import centre_template

KST = "2026-12-01 10:00"  # the clock's moment in Seoul
UTC = "2026-12-01 01:00"  # the same moment in UTC, which no page should show


def plan_and_sent(html: str) -> tuple[list[str], list[str]]:
    """The reminder plan's items and what was sent, as the appointment's page lists them."""
    plan, sent = re.findall(r"<dd><ul>(.*?)</ul></dd>", html, re.S)[:2]
    return re.findall(r"<li>(.*?)</li>", plan), re.findall(r"<li>(.*?)</li>", sent)


def test_the_reminder_plan_is_in_korea_time_like_the_messages_sent(ctx, client, clock, booked) -> None:  # noqa: F811
    appointment_id = booked("bk-1", "seosan", "010-2345-6789")  # 2026-12-03 14:00 in Seoul
    make_staff(ctx, "kim@seosan.example.kr")
    sign_in(client, "kim@seosan.example.kr")
    plan, sent = plan_and_sent(client.get(f"/console/appointments/{appointment_id}").get_data(as_text=True))
    assert "24시간 전 · 예약됨 · 2026-12-02 14:00" in plan  # 05:00 UTC
    assert all("05:00" not in item for item in plan)
    assert f"확인 안내 · 문자 · 대기 중 · {KST}" in sent
    assert "미리 알림 · 문자 · 예약됨 · 2026-12-02 14:00" in sent  # the same reminder, the same time


def test_a_campaigns_creation_is_in_korea_time(ctx, client, clock) -> None:
    make_staff(ctx, "kim@seosan.example.kr")
    sign_in(client, "kim@seosan.example.kr")
    created_id(upload(client))
    html = client.get("/console/campaigns").get_data(as_text=True)
    assert KST in html and UTC not in html


def test_a_templates_versions_are_in_korea_time(ctx, client, clock) -> None:
    centre_template(ctx, "seosan_notice", "seosan")
    make_staff(ctx, "kim@seosan.example.kr")
    sign_in(client, "kim@seosan.example.kr")
    html = client.get("/console/templates/seosan_notice").get_data(as_text=True)
    assert KST in html and UTC not in html


def test_api_keys_are_listed_in_korea_time(ctx, client, clock, make_key) -> None:
    make_key("send", name="booking")
    with ctx.engine.begin() as conn:
        key_id = key_repo.listing(conn)[0]["id"]
        key_repo.touch(conn, key_id, clock(), every=timedelta(0))
    make_staff(ctx, "moel@moel.example.kr", role="ministry", centers=[])
    sign_in(client, "moel@moel.example.kr")
    html = client.get("/console/keys").get_data(as_text=True)
    assert html.count(KST) == 2  # created and last used
    assert UTC not in html and "UTC" not in html
