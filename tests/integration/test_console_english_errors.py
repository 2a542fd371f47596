"""Refused console forms in the page's language: with the ``console_lang=en`` cookie the problem
page says what is wrong in English (and not in Korean); without it, in Korean as before. Read as
a browser gets it: the status code and the HTML."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse, encode_multipart

from notifier.staff import lockout, signin
from tests.console import PASSWORD, form_token, make_staff, post_form, sign_in
from tests.integration.test_console_campaigns import upload

Ask = Callable[[FlaskClient], TestResponse]


def message_search(data: dict[str, str]) -> Ask:
    return lambda client: post_form(client, "/console/messages", data, "/console/messages")


def opt_out_with_bad_address(client: FlaskClient) -> TestResponse:
    data = {"address": "044-202", "scope": "all", "source": "in_person"}
    return post_form(client, "/console/opt-outs", data, "/console/opt-outs")


def campaign_missing_fields(client: FlaskClient) -> TestResponse:
    form = {
        "name": "",
        "template": "nope",
        "category": "informational",
        "center": "seosan",
        "channel": "sms",
        "csrf_token": form_token(client, "/console/campaigns/new"),
    }
    boundary, body = encode_multipart(form)
    return client.post(
        "/console/campaigns", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )


def campaign_that_does_not_exist(client: FlaskClient) -> TestResponse:
    return client.get(f"/console/campaigns/{uuid.uuid4()}")


def mistyped_address(client: FlaskClient) -> TestResponse:
    return client.get("/console/campaign")


def form_address_opened(client: FlaskClient) -> TestResponse:
    """A campaign's start address opened in the browser (as a refused form leaves it in the bar)."""
    return client.get(f"/console/campaigns/{draft_campaign(client)}/start")


def draft_campaign(client: FlaskClient) -> str:
    answer = upload(client, "phone,name,deadline\n010-2345-6789,홍길동,12월 19일(금)\n")
    assert answer.status_code == 303, answer.get_data(as_text=True)
    return answer.headers["Location"].rsplit("/", 1)[1]


def campaign_test_to(phone: str, email: str = "") -> Ask:
    """A test of a draft campaign sent to ``phone`` and ``email`` from its page."""

    def ask(client: FlaskClient) -> TestResponse:
        page = f"/console/campaigns/{draft_campaign(client)}"
        return post_form(client, f"{page}/test", {"phone": phone, "email": email}, page)

    return ask


def appointment_day_with_bad_date(client: FlaskClient) -> TestResponse:
    return client.get("/console/appointments?center=seosan&day=3%20Dec")


def attendance_report_with_bad_filters(client: FlaskClient) -> TestResponse:
    return client.get("/console/attendance?from=2026-12-05&to=2026-12-01&kind=nope")


def sign_in_with_empty_fields(client: FlaskClient) -> TestResponse:
    return post_form(client, "/console/login", {"email": "", "password": ""}, "/console/login")


def unknown_language(client: FlaskClient) -> TestResponse:
    return post_form(client, "/console/language", {"lang": "fr", "next": "/console/"})


def sign_in_with_a_wrong_password(client: FlaskClient) -> TestResponse:
    return sign_in(client, "kim@seosan.example.kr", "not my password")


def sign_in_to_a_locked_account(client: FlaskClient) -> TestResponse:
    """The right password after ``ACCOUNT_LIMIT`` wrong ones (once locked, every try is refused)."""
    for _ in range(lockout.ACCOUNT_LIMIT):
        sign_in(client, "kim@seosan.example.kr", "not my password")
    return sign_in(client, "kim@seosan.example.kr", PASSWORD)


def reset_link_that_is_not_valid(client: FlaskClient) -> TestResponse:
    data = {"password": "a good new password"}
    return post_form(client, "/console/reset/not-a-reset-link", data, "/console/login")


def new_password(password: str) -> Ask:
    """Choose ``password`` through a fresh reset link for Kim (a refused one leaves the link unused)."""

    def ask(client: FlaskClient) -> TestResponse:
        link = signin.issue_reset_link(client.application.extensions["notifier"], "kim@seosan.example.kr")
        path = "/console/reset/" + link.rsplit("/", 1)[1]
        return post_form(client, path, {"password": password}, path)

    return ask


def manager_creates_account(data: dict[str, str]) -> Ask:
    """The centre manager (made by the test) signs in and asks for a new account."""

    def ask(client: FlaskClient) -> TestResponse:
        sign_in(client, "boss@seosan.example.kr")
        return post_form(client, "/console/staff", data, "/console/staff")

    return ask


# (what the browser asks, the status, what the English page says, what the Korean page says)
CASES = {
    "message search, bad date": (
        message_search({"date_from": "5 Dec"}),
        422,
        ["Dates are written YYYY-MM-DD.", "<strong>From</strong>: 5 Dec"],
        ["날짜는 YYYY-MM-DD 형식이어야 합니다.", "<strong>시작일</strong>: 5 Dec"],
    ),
    "message search, bad fields": (
        message_search({"q": "02-123", "status": "lost", "channel": "fax"}),
        422,
        [
            "Check the search conditions.",
            "<strong>Mobile number or email</strong>: This is not a mobile number or an email address.",
            "<strong>Status</strong>: Unknown status.",
            "<strong>Channel</strong>: Choose sms or email.",
        ],
        [
            "검색 조건을 확인해 주세요.",
            "<strong>휴대전화 번호 또는 이메일</strong>: 휴대전화 번호 또는 이메일 주소의 형식이 아닙니다.",
            "<strong>상태</strong>: 알 수 없는 상태입니다.",
            "<strong>채널</strong>: sms 또는 email이어야 합니다.",
        ],
    ),
    "opt-out, bad address": (
        opt_out_with_bad_address,
        422,
        ["<strong>Address</strong>: This is not a mobile number or an email address."],
        ["<strong>주소</strong>: 휴대전화 번호 또는 이메일 주소의 형식이 아닙니다."],
    ),
    "campaign, missing fields": (
        campaign_missing_fields,
        422,
        [
            "The campaign cannot be created.",
            "<strong>Campaign name</strong>: Enter 1 to 200 characters.",
            "<strong>Template</strong>: Choose a template from the list.",
            "<strong>Recipient list (CSV)</strong>: Attach a CSV file.",
        ],
        [
            "캠페인을 만들 수 없습니다.",
            "<strong>캠페인 이름</strong>: 1자 이상 200자 이하로 입력하세요.",
            "<strong>템플릿</strong>: 목록에서 템플릿을 고르세요.",
            "<strong>받는 사람 목록 (CSV)</strong>: CSV 파일을 첨부하세요.",
        ],
    ),
    "campaign, none such": (campaign_that_does_not_exist, 404, ["No such item."], ["없는 항목입니다."]),
    "console address, mistyped": (mistyped_address, 404, ["No such item."], ["없는 항목입니다."]),
    "form address, opened directly": (
        form_address_opened,
        405,
        [
            "This address cannot be opened directly",
            "This address is only used to send a form, so it cannot be opened directly.",
        ],
        ["이 주소는 양식을 보낼 때만 쓰여서 바로 열 수 없습니다."],
    ),
    "campaign test, short number": (
        campaign_test_to("010-12"),
        422,
        ["The test cannot be sent.", "<strong>Test mobile number</strong>: This is not a mobile number."],
        [
            "테스트를 보낼 수 없습니다.",
            "<strong>테스트 받을 휴대전화</strong>: 휴대전화 번호의 형식이 아닙니다.",
        ],
    ),
    "campaign test, bad email": (
        campaign_test_to("", "hong@"),
        422,
        ["<strong>Test email</strong>: This is not an email address."],
        ["<strong>테스트 받을 이메일</strong>: 이메일 주소의 형식이 아닙니다."],
    ),
    "appointment day, bad date": (
        appointment_day_with_bad_date,
        422,
        ["Dates are written YYYY-MM-DD.", "<strong>Day</strong>: 3 Dec"],
        ["날짜는 YYYY-MM-DD 형식이어야 합니다.", "<strong>날짜</strong>: 3 Dec"],
    ),
    "attendance report, bad filters": (
        attendance_report_with_bad_filters,
        422,
        [
            "Check the report filters.",
            "<strong>Kind</strong>: Choose a kind from the list.",
            "<strong>From</strong>: The start date cannot be later than the end date.",
        ],
        [
            "보고서 조건을 확인해 주세요.",
            "<strong>상담 종류</strong>: 목록에 있는 상담 종류를 고르세요.",
            "<strong>시작일</strong>: 시작일은 종료일보다 늦을 수 없습니다.",
        ],
    ),
    "sign-in, empty fields": (
        sign_in_with_empty_fields,
        422,
        [
            "Please check what you entered.",
            "<strong>Email</strong>: Enter your email.",
            "<strong>Password</strong>: Enter your password.",
        ],
        [
            "입력한 내용을 확인해 주세요.",
            "<strong>이메일</strong>: 이메일을 입력하세요.",
            "<strong>비밀번호</strong>: 비밀번호를 입력하세요.",
        ],
    ),
    "language switch, unknown language": (
        unknown_language,
        422,
        ["The language must be ko or en."],
        ["언어는 ko 또는 en이어야 합니다."],
    ),
    "sign-in, wrong password": (
        sign_in_with_a_wrong_password,
        401,
        ["The email or password is incorrect."],
        ["이메일 또는 비밀번호가 맞지 않습니다."],
    ),
    "sign-in, locked account": (
        sign_in_to_a_locked_account,
        429,
        ["Too many sign-in attempts: try again in 15 minutes, or ask your manager for a reset link."],
        [
            "로그인 시도가 너무 많아 잠시 잠겼습니다. 15분 뒤에 다시 시도하거나, "
            "비밀번호를 잊으셨다면 관리자에게 재설정 링크를 요청하세요."
        ],
    ),
    "reset, link not valid": (
        reset_link_that_is_not_valid,
        404,
        ["This link is not valid, has expired or was already used. Please ask for a new one."],
        ["재설정 링크가 올바르지 않거나 만료되었거나 이미 사용되었습니다. 새 링크를 요청하세요."],
    ),
    "reset, password too short": (
        new_password("short"),
        422,
        ["<strong>New password</strong>: The password must be at least 10 characters long."],
        ["<strong>새 비밀번호</strong>: 비밀번호는 10자 이상이어야 합니다."],
    ),
    "reset, password with spaces around it": (
        new_password(" a good new password "),
        422,
        ["<strong>New password</strong>: The password cannot begin or end with a space."],
        ["<strong>새 비밀번호</strong>: 비밀번호의 앞뒤에 공백을 넣을 수 없습니다."],
    ),
    "staff account, email already taken": (
        manager_creates_account(
            {"email": "kim@seosan.example.kr", "name": "김", "role": "staff", "centers": "seosan"}
        ),
        422,
        ["<strong>Email</strong>: An account with this email already exists."],
        ["<strong>이메일</strong>: 이미 같은 이메일의 계정이 있습니다."],
    ),
    "staff account, bad email": (
        manager_creates_account({"email": "not-an-email", "name": "x", "role": "staff", "centers": "seosan"}),
        422,
        ["<strong>Email</strong>: This is not a valid email address."],
        ["<strong>이메일</strong>: 이메일 주소가 올바르지 않습니다."],
    ),
}


def shown(answer: TestResponse, status: int, said: list[str], not_said: list[str]) -> None:
    html = answer.get_data(as_text=True)
    assert answer.status_code == status, html
    for text in said:
        assert text in html
    for text in not_said:
        assert text not in html


@pytest.mark.parametrize(("ask", "status", "english", "korean"), list(CASES.values()), ids=list(CASES))
def test_a_refused_form_says_what_is_wrong_in_the_page_language(
    ctx, client, ask: Ask, status: int, english: list[str], korean: list[str]
) -> None:
    make_staff(ctx, "kim@seosan.example.kr")
    make_staff(ctx, "boss@seosan.example.kr", role="manager")
    sign_in(client, "kim@seosan.example.kr")
    shown(ask(client), status, korean, english)
    client.set_cookie("console_lang", "en", path="/console")
    shown(ask(client), status, english, korean)
    client.delete_cookie("console_lang", path="/console")
    shown(ask(client), status, korean, english)


def test_an_english_browser_without_the_cookie_gets_english_problems(ctx, client) -> None:
    make_staff(ctx, "kim@seosan.example.kr")
    sign_in(client, "kim@seosan.example.kr")
    token = form_token(client, "/console/opt-outs")
    data = {"address": "not-an-address", "scope": "all", "source": "written", "csrf_token": token}
    answer = client.post("/console/opt-outs", data=data, headers={"Accept-Language": "en-GB,en;q=0.8"})
    shown(
        answer,
        422,
        ["This is not a mobile number or an email address."],
        ["휴대전화 번호 또는 이메일 주소의 형식이 아닙니다."],
    )


def test_an_action_address_opened_directly_links_back_to_its_page(ctx, client) -> None:
    make_staff(ctx, "kim@seosan.example.kr")
    sign_in(client, "kim@seosan.example.kr")
    campaign_id = draft_campaign(client)
    answer = client.get(f"/console/campaigns/{campaign_id}/start")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 405 and "POST" in answer.headers["Allow"]
    assert answer.mimetype == "text/html" and "detail" not in html
    assert f'<a href="/console/campaigns/{campaign_id}">돌아가기</a>' in html
    assert "로그인 계정: 김직원" in html  # the console's page, with the menu, for whoever is signed in
    key_id = uuid.uuid4()
    assert '<a href="/console/keys">' in client.get(f"/console/keys/{key_id}/revoke").get_data(as_text=True)


@pytest.mark.parametrize(
    ("method", "path", "status"), [("GET", "/v1/nope", 404), ("DELETE", "/v1/messages", 405)]
)
def test_the_api_still_answers_problem_json_to_unknown_addresses(client, auth, method, path, status) -> None:
    answer = client.open(path, method=method, headers=auth)
    assert answer.status_code == status
    assert answer.mimetype == "application/problem+json"
    assert answer.json["status"] == status
