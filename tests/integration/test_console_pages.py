"""The console's pages: every permission rule (another centre's message is a 404; staff,
manager and ministry each see what their role allows) and every form's bad input (a Korean
problem page, nothing changed). Addresses are shown masked and never travel in a URL."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, update

from notifier.consent.tables import opt_outs
from notifier.keys.tables import api_keys
from notifier.messages import search as finder
from notifier.messages.search import MessageSearch
from notifier.messages.tables import messages
from notifier.staff.tables import audit_log
from tests.console import form_token, make_staff, problems_of, sign_in
from tests.factories import message_body

SEOSAN_PHONE = "010-2345-6789"
GUMI_PHONE = "010-8765-4321"


def send(client, auth, center: str, phone: str, reference: str = "ref-1") -> str:
    body = message_body(to={"phone": phone, "name": "홍길동"}, center={"code": center}, reference=reference)
    answer = client.post("/v1/messages", json=body, headers=auth)
    assert answer.status_code == 202, answer.get_data(as_text=True)
    return answer.json["id"]


def set_status(ctx, message_id: str, status: str, **values) -> None:
    """Test data: a message that got this far (the workers are not running in these tests)."""
    with ctx.engine.begin() as conn:
        conn.execute(update(messages).where(messages.c.id == message_id).values(status=status, **values))


def rows(ctx, table):
    with ctx.engine.connect() as conn:
        return list(conn.execute(select(table)).mappings())


def post(client, path: str, data: dict, token_from: str = "/console/"):
    return client.post(path, data={**data, "csrf_token": form_token(client, token_from)})


# ---- messages -------------------------------------------------------------------------------


def test_staff_find_their_centres_message_by_phone_shown_masked(ctx, client, auth) -> None:
    mine = send(client, auth, "seosan", SEOSAN_PHONE)
    send(client, auth, "gumi", GUMI_PHONE)
    make_staff(ctx, "kim@seosan.example.kr")
    sign_in(client, "kim@seosan.example.kr")
    found = post(client, "/console/messages", {"q": "01023456789"}, "/console/messages")
    html = found.get_data(as_text=True)
    assert found.status_code == 200 and found.request.path == "/console/messages"
    assert "010-****-6789" in html and f"/console/messages/{mine}" in html
    assert "2345-6789" not in html and "+821023456789" not in html
    assert "8765" not in html  # the other centre's message is not listed
    listed = client.get("/console/messages").get_data(as_text=True)
    assert f"/console/messages/{mine}" in listed and "4321" not in listed


def test_another_centres_message_is_not_found(ctx, client, auth) -> None:
    theirs = send(client, auth, "gumi", GUMI_PHONE)
    make_staff(ctx, "kim@seosan.example.kr")
    make_staff(ctx, "boss@seosan.example.kr", role="manager")
    for email in ("kim@seosan.example.kr", "boss@seosan.example.kr"):
        sign_in(client, email)
        answer = client.get(f"/console/messages/{theirs}")
        missing = client.get("/console/messages/no-such-id")
        # The same page whether it is another centre's or none at all: nothing tells them apart.
        for page in (answer, missing):
            html = page.get_data(as_text=True)
            assert page.status_code == 404 and "찾을 수 없습니다" in html and "없는 항목입니다." in html
        searched = post(client, "/console/messages", {"q": GUMI_PHONE}, "/console/messages")
        assert theirs not in searched.get_data(as_text=True)


def test_the_ministry_sees_every_centre_and_the_detail_with_history(ctx, client, auth) -> None:
    theirs = send(client, auth, "gumi", GUMI_PHONE)
    set_status(ctx, theirs, "failed", provider="twilio", provider_message_id="SM123", error_code="30003",
               error_reason="unreachable handset 010-8765-4321")  # fmt: skip
    make_staff(ctx, "moel@moel.example.kr", role="ministry", centers=[])
    sign_in(client, "moel@moel.example.kr")
    html = client.get(f"/console/messages/{theirs}").get_data(as_text=True)
    assert "SM123" in html and "30003" in html and "unreachable handset 010-****-4321" in html
    assert "대기 중" in html and "queued" not in html  # the history
    assert "8765" not in html


def test_a_search_with_bad_input_names_each_field_in_korean(ctx, client) -> None:
    make_staff(ctx, "kim@seosan.example.kr")
    sign_in(client, "kim@seosan.example.kr")
    bad = post(
        client,
        "/console/messages",
        {
            "q": "02-123",
            "status": "lost",
            "channel": "fax",
            "date_from": "2026-12-05",
            "date_to": "2026-12-01",
        },
        "/console/messages",
    )
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422
    for words in (
        "휴대전화 번호 또는 이메일 주소의 형식이 아닙니다",
        "알 수 없는 상태",
        "sms 또는 email",
        "종료일보다",
    ):
        assert words in html
    assert "아무것도 변경되지 않았습니다" in html
    assert post(client, "/console/messages", {"date_from": "5 Dec"}, "/console/messages").status_code == 422
    assert (
        post(client, "/console/messages", {"cursor": "not-a-cursor"}, "/console/messages").status_code == 422
    )


def test_the_search_pages_with_a_cursor_newest_first(ctx, client, auth) -> None:
    ids = [send(client, auth, "seosan", SEOSAN_PHONE, reference=f"r{n}") for n in range(5)]
    query = MessageSearch(centers={"seosan"}, phone="+821023456789")
    seen, cursor = [], None
    with ctx.engine.connect() as conn:
        while True:
            page, cursor = finder.search(conn, query, cursor, limit=2)
            seen += [r["id"] for r in page]
            if cursor is None:
                break
    assert sorted(seen) == sorted(ids) and len(seen) == 5
    with ctx.engine.connect() as conn:
        assert finder.search(conn, MessageSearch(centers={"gumi"}, phone="+821023456789"))[0] == []


# ---- home -----------------------------------------------------------------------------------


def test_home_counts_only_the_accounts_centres(ctx, client, auth) -> None:
    delivered = send(client, auth, "seosan", SEOSAN_PHONE)
    failed = send(client, auth, "seosan", SEOSAN_PHONE, reference="r2")
    other = send(client, auth, "gumi", GUMI_PHONE)
    set_status(ctx, delivered, "delivered")
    set_status(ctx, failed, "failed", error_code="30003", error_reason="unreachable")
    set_status(ctx, other, "failed", error_code="30005", error_reason="unknown number")
    make_staff(ctx, "kim@seosan.example.kr")
    sign_in(client, "kim@seosan.example.kr")
    html = client.get("/console/").get_data(as_text=True)
    assert 'data-count="sms-today-sent">1<' in html and 'data-count="sms-today-delivered">1<' in html
    assert 'data-count="sms-14d-failed">1<' in html
    assert "30003" in html and "30005" not in html
    assert "<svg" in html and "<polyline" in html

    make_staff(ctx, "moel@moel.example.kr", role="ministry", centers=[])
    sign_in(client, "moel@moel.example.kr")
    every = client.get("/console/").get_data(as_text=True)
    assert 'data-count="sms-14d-failed">2<' in every and "30005" in every


# ---- opt-outs -------------------------------------------------------------------------------


def test_staff_add_an_opt_out_and_see_when_and_how(ctx, client) -> None:
    make_staff(ctx, "kim@seosan.example.kr")
    sign_in(client, "kim@seosan.example.kr")
    added = post(
        client,
        "/console/opt-outs",
        {"address": "010-2345-6789", "scope": "all", "source": "in_person"},
        "/console/opt-outs",
    )
    html = added.get_data(as_text=True)
    assert added.status_code == 201 and "수신거부를 등록했습니다" in html and "방문" in html
    assert "010-****-6789" in html and "2345-6789" not in html
    stored = rows(ctx, opt_outs)
    assert [(r["channel"], r["scope"], r["source"]) for r in stored] == [("sms", "all", "in_person")]
    entry = next(e for e in rows(ctx, audit_log) if e["action"] == "opt_out_added")
    assert entry["actor"] == "kim@seosan.example.kr" and "2345-6789" not in entry["detail"]
    found = post(client, "/console/opt-outs/search", {"address": "+82 10-2345-6789"}, "/console/opt-outs")
    listed = found.get_data(as_text=True)
    assert "방문" in listed and "<td>문자</td>" in listed and "<td>sms</td>" not in listed
    nothing = post(client, "/console/opt-outs/search", {"address": "hong@example.com"}, "/console/opt-outs")
    assert "수신거부 기록이 없습니다" in nothing.get_data(as_text=True)


def test_a_bad_opt_out_form_is_refused_in_korean_and_stores_nothing(ctx, client) -> None:
    make_staff(ctx, "kim@seosan.example.kr")
    sign_in(client, "kim@seosan.example.kr")
    for data in (
        {"address": "044-202", "scope": "all", "source": "in_person"},
        {"address": "010-2345-6789", "scope": "everything", "source": "in_person"},
        {"address": "010-2345-6789", "scope": "all", "source": "api"},
        {"address": "", "scope": "all", "source": "written"},
    ):
        refused = post(client, "/console/opt-outs", data, "/console/opt-outs")
        assert refused.status_code == 422, data
        assert "아무것도 변경되지 않았습니다" in refused.get_data(as_text=True)
    no_token = client.post(
        "/console/opt-outs", data={"address": "010-2345-6789", "scope": "all", "source": "written"}
    )
    assert no_token.status_code == 400
    assert rows(ctx, opt_outs) == []


# ---- API keys -------------------------------------------------------------------------------


def test_the_ministry_creates_a_key_shown_once_and_revokes_it(ctx, client) -> None:
    make_staff(ctx, "moel@moel.example.kr", role="ministry", centers=[])
    sign_in(client, "moel@moel.example.kr")
    created = post(client, "/console/keys", {"name": "booking", "scopes": "send"}, "/console/keys")
    assert created.status_code == 201
    key = created.get_data(as_text=True).split('id="new-key">', 1)[1].split("<", 1)[0]
    assert key.startswith("ntf_")
    assert key not in client.get("/console/keys").get_data(as_text=True)
    assert client.get("/v1/messages", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    listed = client.get("/console/keys").get_data(as_text=True)
    assert "booking" in listed and "UTC" not in listed  # Korea time, as everywhere on the console
    key_id = rows(ctx, api_keys)[0]["id"]
    assert rows(ctx, api_keys)[0]["last_used_at"] is not None
    revoked = post(client, f"/console/keys/{key_id}/revoke", {}, "/console/keys")
    assert revoked.status_code == 303
    assert "API 키를 폐기했습니다" in client.get(revoked.headers["Location"]).get_data(as_text=True)
    assert client.get("/v1/messages", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    actions = [e["action"] for e in rows(ctx, audit_log)]
    assert "api_key_created" in actions and "api_key_revoked" in actions
    twice = post(client, f"/console/keys/{key_id}/revoke", {}, "/console/keys")
    assert twice.status_code == 404 and "찾을 수 없습니다" in twice.get_data(as_text=True)
    assert "no live API key" not in twice.get_data(as_text=True)  # the API's English stays in the API


def key_rows(html: str) -> dict[str, tuple[str, str]]:
    """Each listed key's state and what its actions column offers, by name (text, tags dropped)."""
    body = html.split('<table id="keys">', 1)[1].split("</tbody>", 1)[0]
    listed = {}
    for row in re.findall(r"<tr><td>(.*?)</tr>", body, re.S):
        cells = [re.sub(r"<[^>]+>|\s+", " ", cell).strip() for cell in row.split("</td>")]
        listed[cells[0]] = (cells[5], cells[6])
    return listed


def test_a_keys_state_is_text_and_its_revoke_button_has_its_own_column(ctx, client, make_key) -> None:
    make_key("send", name="old-booking")
    make_staff(ctx, "moel@moel.example.kr", role="ministry", centers=[])
    sign_in(client, "moel@moel.example.kr")
    key_id = rows(ctx, api_keys)[0]["id"]
    assert key_rows(client.get("/console/keys").get_data(as_text=True)) == {
        "old-booking": ("사용 중", "폐기")
    }
    post(client, f"/console/keys/{key_id}/revoke", {}, "/console/keys")
    assert key_rows(client.get("/console/keys").get_data(as_text=True)) == {"old-booking": ("폐기됨", "")}
    client.set_cookie("console_lang", "en", path="/console")
    assert key_rows(client.get("/console/keys").get_data(as_text=True)) == {"old-booking": ("Revoked", "")}


def test_staff_and_managers_cannot_see_or_revoke_keys(ctx, client, make_key) -> None:
    make_key("send")
    key_id = rows(ctx, api_keys)[0]["id"]
    make_staff(ctx, "kim@seosan.example.kr")
    make_staff(ctx, "boss@seosan.example.kr", role="manager")
    for email in ("kim@seosan.example.kr", "boss@seosan.example.kr"):
        sign_in(client, email)
        assert client.get("/console/keys").status_code == 404
        assert post(client, f"/console/keys/{key_id}/revoke", {}).status_code == 404
        assert post(client, "/console/keys", {"name": "x", "scopes": "admin"}).status_code == 404
    assert [r["revoked_at"] for r in rows(ctx, api_keys)] == [None]
    assert len(rows(ctx, api_keys)) == 1


def test_a_bad_key_form_is_refused_in_korean_and_creates_nothing(ctx, client) -> None:
    make_staff(ctx, "moel@moel.example.kr", role="ministry", centers=[])
    sign_in(client, "moel@moel.example.kr")
    for data in ({"name": "", "scopes": "send"}, {"name": "x"}, {"name": "x", "scopes": "root"}):
        refused = post(client, "/console/keys", data, "/console/keys")
        assert refused.status_code == 422 and "API 키를 만들 수 없습니다" in refused.get_data(as_text=True)
    assert rows(ctx, api_keys) == []


# ---- staff accounts -------------------------------------------------------------------------


def test_a_manager_creates_an_account_for_their_centre_whose_link_works(ctx, client) -> None:
    from notifier.staff.tables import staff_accounts

    make_staff(ctx, "boss@seosan.example.kr", role="manager")
    sign_in(client, "boss@seosan.example.kr")
    new = {"email": "new@seosan.example.kr", "name": "신입", "role": "staff", "centers": "seosan"}
    created = post(client, "/console/staff", new, "/console/staff")
    assert created.status_code == 201
    link = created.get_data(as_text=True).split('id="reset-link">', 1)[1].split("<", 1)[0]
    path = "/console/reset/" + link.rsplit("/", 1)[1]
    fresh = client.application.test_client()
    assert (
        fresh.post(
            path, data={"password": "a new password", "csrf_token": form_token(fresh, path)}
        ).status_code
        == 303
    )
    assert sign_in(fresh, "new@seosan.example.kr", "a new password").status_code == 303
    actions = [
        (e["actor"], e["action"]) for e in rows(ctx, audit_log) if e["actor"] == "boss@seosan.example.kr"
    ]
    assert ("boss@seosan.example.kr", "staff_created") in actions
    assert ("boss@seosan.example.kr", "reset_link_issued") in actions
    assert len(rows(ctx, staff_accounts)) == 2


def test_a_manager_cannot_make_managers_or_reach_other_centres_accounts(ctx, client) -> None:
    from notifier.staff.tables import staff_accounts, staff_reset_tokens

    make_staff(ctx, "boss@seosan.example.kr", role="manager")
    other = make_staff(ctx, "kim@gumi.example.kr", centers=["gumi"])
    sign_in(client, "boss@seosan.example.kr")
    before = len(rows(ctx, staff_reset_tokens))
    for data in (
        {"email": "x@seosan.example.kr", "name": "x", "role": "manager", "centers": "seosan"},
        {"email": "x@gumi.example.kr", "name": "x", "role": "staff", "centers": "gumi"},
        {"email": "not-an-email", "name": "x", "role": "staff", "centers": "seosan"},
        {"email": "kim@gumi.example.kr", "name": "x", "role": "staff", "centers": "seosan"},
    ):
        refused = post(client, "/console/staff", data, "/console/staff")
        assert refused.status_code == 422 and "아무것도 변경되지 않았습니다" in refused.get_data(
            as_text=True
        ), data
    assert post(client, f"/console/staff/{other.id}/reset-link", {}, "/console/staff").status_code == 404
    assert "kim@gumi.example.kr" not in client.get("/console/staff").get_data(as_text=True)
    assert len(rows(ctx, staff_accounts)) == 2 and len(rows(ctx, staff_reset_tokens)) == before


def test_staff_have_no_staff_page_and_the_ministry_sees_everyone(ctx, client) -> None:
    make_staff(ctx, "kim@seosan.example.kr")
    make_staff(ctx, "lee@gumi.example.kr", centers=["gumi"])
    make_staff(ctx, "moel@moel.example.kr", role="ministry", centers=[])
    sign_in(client, "kim@seosan.example.kr")
    assert client.get("/console/staff").status_code == 404
    assert post(client, "/console/staff", {"email": "y@seosan.example.kr", "name": "y"}).status_code == 404
    sign_in(client, "moel@moel.example.kr")
    html = client.get("/console/staff").get_data(as_text=True)
    assert "kim@seosan.example.kr" in html and "lee@gumi.example.kr" in html
    manager = {"email": "boss@gumi.example.kr", "name": "관리", "role": "manager", "centers": "gumi"}
    made = post(client, "/console/staff", manager, "/console/staff")
    assert made.status_code == 201


NEW_ACCOUNT = {"email": "new@seosan.example.kr", "name": "신입", "role": "staff", "centers": "seosan"}


@pytest.mark.parametrize(
    ("change", "korean", "english"),
    [
        (
            {"role": "boss"},
            (
                "역할",
                "역할은 센터 직원(staff), 센터 관리자(manager), 고용노동부(ministry) 중 하나여야 합니다.",
            ),
            (
                "Role",
                "The role must be centre staff (staff), centre manager (manager) or the ministry (ministry).",
            ),
        ),
        (
            {"centers": ""},
            ("센터", "센터 직원과 센터 관리자 계정에는 센터가 하나 이상 필요합니다."),
            ("Centre", "A centre staff or centre manager account needs at least one centre."),
        ),
        (
            {"role": "manager", "centers": "seosan,gumi"},
            ("센터", "센터 관리자 계정은 센터 하나만 맡습니다."),
            ("Centre", "A centre manager account runs exactly one centre."),
        ),
        (
            {"centers": "atlantis"},
            ("센터", "등록되지 않은 센터입니다: atlantis"),
            ("Centre", "Unknown centre: atlantis"),
        ),
        (
            {"name": " "},
            ("이름", "이름은 1자 이상 100자 이하여야 합니다."),
            ("Name", "The name must be 1 to 100 characters long."),
        ),
        (
            {"email": "not-an-email"},
            ("이메일", "이메일 주소가 올바르지 않습니다."),
            ("Email", "This is not a valid email address."),
        ),
        (
            {"email": "moel@moel.example.kr"},
            ("이메일", "이미 같은 이메일의 계정이 있습니다."),
            ("Email", "An account with this email already exists."),
        ),
    ],
)
def test_a_refused_account_is_explained_by_the_field_it_is_about(
    ctx, client, change: dict[str, str], korean: tuple[str, str], english: tuple[str, str]
) -> None:
    from notifier.staff.tables import staff_accounts

    make_staff(ctx, "moel@moel.example.kr", role="ministry", centers=[])
    sign_in(client, "moel@moel.example.kr")
    refused = post(client, "/console/staff", {**NEW_ACCOUNT, **change}, "/console/staff")
    assert refused.status_code == 422
    assert problems_of(refused.get_data(as_text=True)) == [korean]
    client.set_cookie("console_lang", "en", path="/console")
    in_english = post(client, "/console/staff", {**NEW_ACCOUNT, **change}, "/console/staff")
    assert in_english.status_code == 422
    assert problems_of(in_english.get_data(as_text=True)) == [english]
    assert len(rows(ctx, staff_accounts)) == 1


def test_an_email_is_found_whatever_the_case_it_is_typed_in(ctx, client, auth) -> None:
    body = message_body(to={"email": "Hong.Gildong@Example.COM", "name": "홍길동"}, channel="email",
                        center={"code": "seosan"})  # fmt: skip
    assert client.post("/v1/messages", json=body, headers=auth).status_code == 202
    make_staff(ctx, "kim@seosan.example.kr")
    sign_in(client, "kim@seosan.example.kr")
    for typed in ("hong.gildong@example.com", "Hong.Gildong@example.com", "HONG.GILDONG@EXAMPLE.COM"):
        html = post(client, "/console/messages", {"q": typed}, "/console/messages").get_data(as_text=True)
        assert "/console/messages/" in html.split('id="results"', 1)[1], typed
        assert "Gildong" not in html.split('id="results"', 1)[1]  # shown masked
