"""The console says what internal codes mean, in the page's language: message and campaign
statuses, channels, appointment kinds, statuses and purposes, roles, audit actions, rejection
reasons (the number masked), history notes; centres by name and templates by description.
Option values and URLs keep the codes; the visible text does not show them."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from notifier.consent.coverage import reason_text
from notifier.console.labels import history_detail, label
from notifier.domain.message_status import Status
from notifier.messages import repository as message_repo
from notifier.messages.accept import URGENT
from notifier.messages.tables import messages
from tests.console import form_token, make_staff, shows_code, sign_in, visible_text
from tests.factories import message_body
from tests.integration.test_appointments_api import booking
from tests.integration.test_console_campaigns import created_id, upload

LIST = "phone,name,deadline\n010-2345-6789,홍길동,12월 19일(금)\n02-555-1234,김철수,\n"


def text_of(client, path: str) -> str:
    answer = client.get(path)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return visible_text(answer.get_data(as_text=True))


def hidden(text: str, lang: str, *codes: str) -> None:
    """No code of ``codes`` in the visible text (English prose may use the words themselves)."""
    shown = [code for code in codes if shows_code(text, code, prose=lang == "en")]
    assert not shown, (shown, text)


@pytest.fixture(params=["ko", "en"])
def lang(request, client) -> str:
    if request.param == "en":
        client.set_cookie("console_lang", "en", path="/console")
    return str(request.param)


def pick(lang: str, ko: str, en: str) -> str:
    return en if lang == "en" else ko


def test_messages_list_filter_and_detail_say_statuses_and_channels(ctx, client, auth, lang) -> None:
    sent = client.post("/v1/messages", json=message_body(center={"code": "seosan"}), headers=auth).json["id"]
    expired = client.post(
        "/v1/messages", json=message_body(center={"code": "seosan"}, reference="r-2"), headers=auth
    ).json["id"]
    with ctx.engine.begin() as conn:
        conn.execute(update(messages).where(messages.c.id == sent).values(status="delivered"))
        message_repo.transition_many(
            conn, messages.c.id == expired, Status.EXPIRED, ctx.clock(), detail="validity window passed"
        )
    make_staff(ctx, "kim@seosan.example.kr")
    sign_in(client, "kim@seosan.example.kr")
    html = client.get("/console/messages").get_data(as_text=True)
    assert '<option value="expired">' in html and '<option value="sms">' in html  # values stay codes
    listed = visible_text(html)
    assert pick(lang, "전달됨", "Delivered") in listed and pick(lang, "만료", "Expired") in listed
    assert pick(lang, "대기 중", "Queued") in listed  # the filter's option
    assert pick(lang, "문자", "SMS") in listed and "서산고용복지+센터" in listed
    hidden(listed, lang, "delivered", "expired", "queued", "scheduled", "suppressed", "sms", "kakao")
    detail = text_of(client, f"/console/messages/{expired}")
    assert pick(lang, "유효 기간이 지나 보내지 않음", "Past its validity window") in detail
    assert pick(lang, "상담 예약 확인", "Appointment confirmation") in detail  # the template
    hidden(detail, lang, "expired", "queued", "sms", "validity window passed", "appointment_confirmation")


def test_campaign_pages_say_statuses_channels_and_rejections_masked(ctx, client, lang) -> None:
    make_staff(ctx, "kim@seosan.example.kr")
    sign_in(client, "kim@seosan.example.kr")
    campaign_id = created_id(upload(client, LIST, name="12월 도약보장패키지 안내"))
    page = f"/console/campaigns/{campaign_id}"
    draft = text_of(client, page)
    assert (
        pick(lang, "02-***-1234 번호는 휴대전화 번호가 아니어서", "02-***-1234 is not a mobile number")
        in draft
    )
    assert "555-1234" not in draft
    assert (
        pick(lang, "구직자 대상 기업·구직자 도약보장패키지 안내", "Programme announcement for job seekers")
        in draft
    )
    assert pick(lang, "작성 중", "Draft") in draft
    hidden(draft, lang, "draft", "sms", "program_announcement_jobseekers")
    if lang == "ko":
        hidden(draft, lang, "is not a mobile number", "phone")
    token = form_token(client, page)
    assert client.post(f"{page}/start", data={"at": "", "csrf_token": token}).status_code == 303
    running = text_of(client, page)
    assert pick(lang, "발송 중", "Running") in running and pick(lang, "대기 중", "Queued") in running
    hidden(running, lang, "running", "queued", "sms")
    live = client.get(f"{page}/progress.json").json
    assert live["count_labels"] == {"queued": pick(lang, "대기 중", "Queued")}
    assert live["status_label"] == pick(lang, "발송 중", "Running")
    listed = text_of(client, "/console/campaigns")
    assert "서산고용복지+센터" in listed and pick(lang, "발송 중", "Running") in listed
    hidden(listed, lang, "running")
    home = text_of(client, "/console/")
    assert (
        f"12월 도약보장패키지 안내 · {pick(lang, '발송 중', 'Running')} · {pick(lang, '문자', 'SMS')}" in home
    )
    hidden(home, lang, "running", "sms", "email")
    new = client.get("/console/campaigns/new").get_data(as_text=True)
    assert '<option value="program_announcement_jobseekers">' in new
    hidden(visible_text(new), lang, "program_announcement_jobseekers", "appointment_reminder", "sms", "kakao")


def test_the_appointment_card_says_kind_status_purposes_and_duration(
    ctx, client, make_key, clock, lang
) -> None:
    headers = {"Authorization": f"Bearer {make_key('appointments')}"}
    booked = client.put("/v1/appointments/bk-1", json=booking(duration_minutes=90), headers=headers)
    assert booked.status_code == 201, booked.json
    make_staff(ctx, "kim@seosan.example.kr")
    sign_in(client, "kim@seosan.example.kr")
    for path in (
        "/console/appointments?center=seosan&day=2026-12-03",
        f"/console/appointments/{booked.json['id']}",
    ):
        card = text_of(client, path)
        assert pick(lang, "1:1 심층상담", "1:1 in-depth counseling") in card
        assert pick(lang, "예약됨", "Booked") in card
        assert pick(lang, "확인 안내 · 문자 · 대기 중", "Confirmation · SMS · Queued") in card
        assert pick(lang, "(1시간 30분)", "(1 hour 30 minutes)") in card
        hidden(card, lang, "in_depth_counseling", "booked", "confirmation", "sms", "queued", "scheduled")
        assert "90′" not in card
        assert pick(lang, "24시간 전 · 예약됨", "24 hours before · Scheduled") in card  # the reminder plan
        assert "24h" not in card
    outcome = text_of(client, f"/console/appointments/{booked.json['id']}/outcome")
    assert pick(lang, "1:1 심층상담", "1:1 in-depth counseling") in outcome
    assert "서산고용복지+센터" in outcome
    hidden(outcome, lang, "in_depth_counseling")


def test_staff_and_audit_pages_say_roles_and_actions(ctx, client, lang) -> None:
    make_staff(ctx, "kim@seosan.example.kr")
    make_staff(ctx, "boss@seosan.example.kr", role="manager")
    sign_in(client, "boss@seosan.example.kr")
    people = text_of(client, "/console/staff")
    assert pick(lang, "센터 직원", "Centre staff") in people
    assert pick(lang, "센터 관리자", "Centre manager") in people
    assert "서산고용복지+센터" in people
    hidden(people, lang, "staff", "manager", "ministry")
    log = text_of(client, "/console/audit")
    assert pick(lang, "직원 계정 생성", "Staff account created") in log
    assert pick(lang, "비밀번호 설정", "Password set") in log
    hidden(log, lang, "staff_created", "password_set", "signed_in")


def test_the_templates_are_listed_by_their_description(ctx, client, lang) -> None:
    make_staff(ctx, "kim@seosan.example.kr")
    sign_in(client, "kim@seosan.example.kr")
    html = client.get("/console/templates").get_data(as_text=True)
    assert "/console/templates/program_announcement_jobseekers" in html
    listed = visible_text(html)
    assert (
        pick(lang, "구직자 대상 기업·구직자 도약보장패키지 안내", "Programme announcement for job seekers")
        in listed
    )
    assert pick(lang, "상담 일정 미리 알림", "Appointment reminder") in listed
    hidden(listed, lang, "program_announcement_jobseekers", "appointment_reminder", "sms", "email")
    one = text_of(client, "/console/templates/appointment_reminder")
    assert pick(lang, "상담 일정 미리 알림", "Appointment reminder") in one
    hidden(one, lang, "appointment_reminder")


def test_an_unknown_code_is_shown_as_itself() -> None:
    assert label("message_status", "something_new", "ko") == "something_new"
    assert (
        label("channel", "kakao", "ko") == "알림톡"
        and label("channel", "kakao", "en") == "KakaoTalk AlimTalk"
    )


def test_history_notes_that_carry_values_are_said_in_the_pages_language() -> None:
    notes = {
        "held for quiet hours (21:00-08:00 Asia/Seoul) until 2026-12-02 08:00": (
            "야간 발송 제한(21:00-08:00) 때문에 2026-12-02 08:00까지 보류",
            "Held for quiet hours (21:00-08:00) until 2026-12-02 08:00",
        ),
        "appointment changed (now revision 3)": (
            "예약이 바뀌어 보내지 않음 (지금 3번째 내용)",
            "Not sent: the appointment changed (now revision 3)",
        ),
        reason_text("advertising", "unsubscribe_link"): (
            "받는 사람이 수신거부함 (광고성 정보, 수신거부 링크)",
            "The recipient opted out (advertising, Unsubscribe link)",
        ),
        "gave up after 5 attempts": ("5번 시도한 뒤 그만둠", "Gave up after 5 attempts"),
        URGENT: (
            "긴급: 요청에 따라 야간 발송 제한 중에도 보냄",
            "Urgent: sent in quiet hours, as the client asked",
        ),
        "campaign cancelled": ("캠페인이 취소됨", "The campaign was cancelled"),
    }
    for note, (ko, en) in notes.items():
        assert (history_detail(note, "ko"), history_detail(note, "en")) == (ko, en)
    assert (
        history_detail("E30: 010-1234-5678 refused", "ko") == "E30: 010-****-5678 refused"
    )  # as stored, masked
