"""The console's campaign pages: the wizard from a CSV upload to the start, the validation report
with every rejected row, the preview, the manager's approval of an advertising campaign, live
progress and cancel; another centre's campaign is a 404 on every page and form, and every bad
form gets a Korean problem page and changes nothing."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from notifier.campaigns.render import MAX_TEST_MESSAGES
from notifier.campaigns.tables import campaigns
from notifier.staff.tables import audit_log
from tests.console import form_token, make_staff, problems_of, sign_in

TEMPLATE = "program_announcement_jobseekers"
LIST = (
    "phone,name,deadline\n"
    "010-2345-6789,홍길동,12월 19일(금)\n"
    "044-202-7369,김철수,\n"
    "010-3456-7890,이영희,\n"
    "not-a-phone,박민수,\n"
)


def upload(client, content: str = LIST, **fields):
    form = {
        "name": "12월 안내",
        "template": TEMPLATE,
        "category": "informational",
        "center": "seosan",
        "channel": "sms",
        **fields,
        "csrf_token": form_token(client, "/console/campaigns/new"),
    }
    if content is not None:
        form["file"] = FileStorage(io.BytesIO(content.encode()), filename="list.csv", content_type="text/csv")
    # Encoded here, in memory: the test client would spool a large body to a file it never closes.
    boundary, body = encode_multipart(form)
    return client.post(
        "/console/campaigns", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )


def post(client, path: str, data: dict | None = None, token_from: str = "/console/campaigns"):
    return client.post(path, data={**(data or {}), "csrf_token": form_token(client, token_from)})


def created_id(answer) -> str:
    assert answer.status_code == 303, answer.get_data(as_text=True)
    return answer.headers["Location"].rsplit("/", 1)[1]


def audit_actions(ctx, campaign_id: str) -> list[str]:
    with ctx.engine.connect() as conn:
        query = (
            select(audit_log.c.action).where(audit_log.c.object_id == campaign_id).order_by(audit_log.c.id)
        )
        return list(conn.execute(query).scalars())


def count_campaigns(ctx) -> int:
    with ctx.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(campaigns)).scalar_one()


def status_of(ctx, campaign_id: str) -> str:
    with ctx.engine.connect() as conn:
        return conn.execute(select(campaigns.c.status).where(campaigns.c.id == campaign_id)).scalar_one()


def test_an_uploaded_list_shows_every_rejected_row_and_downloads_them(ctx, client) -> None:
    make_staff(ctx, "kim@seosan.example.kr")
    sign_in(client, "kim@seosan.example.kr")
    campaign_id = created_id(upload(client))
    html = client.get(f"/console/campaigns/{campaign_id}").get_data(as_text=True)
    assert "검사 결과" in html
    assert "044-***-7369 번호는 휴대전화 번호가 아니어서" in html  # row 3 and its reason, masked
    assert "202-7369" not in html
    assert "<td>3</td>" in html and "<td>5</td>" in html
    # What a person receives: the SMS as rendered for the first recipient, with its size.
    assert "홍길동님" in html and "바이트 (CP949)" in html and "UCS-2" in html.upper()
    # And what it will cost, from the price table (NOTIFIER_PRICES' example defaults).
    assert "예상 비용" in html and re.search(r"<dd>\d[\d,]* KRW \((solapi|twilio)\)</dd>", html)
    download = client.get(f"/console/campaigns/{campaign_id}/rejections.csv")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    lines = download.get_data(as_text=True).splitlines()
    assert lines[0] == "row,reason,raw" and len(lines) == 3
    assert audit_actions(ctx, campaign_id) == ["campaign_created"]
    listed = client.get("/console/campaigns").get_data(as_text=True)
    assert f"/console/campaigns/{campaign_id}" in listed and "작성 중" in listed


def test_start_shows_live_progress_and_cancel_is_audited(ctx, client) -> None:
    make_staff(ctx, "kim@seosan.example.kr")
    sign_in(client, "kim@seosan.example.kr")
    campaign_id = created_id(upload(client))
    page = f"/console/campaigns/{campaign_id}"
    assert post(client, f"{page}/start", {"at": ""}, page).status_code == 303
    live = client.get(f"{page}/progress.json")
    assert live.status_code == 200
    assert live.json["status"] == "running" and live.json["progress"]["total"] == 2
    assert sum(live.json["counts"].values()) == 2  # the first batch is fanned out at once
    assert 'src="/console/static/live.js"' in client.get(page).get_data(as_text=True)
    again = post(client, f"{page}/start", {}, page)
    assert again.status_code == 409 and "작성 중이고" in again.get_data(as_text=True)
    assert post(client, f"{page}/cancel", {}, page).status_code == 303
    assert client.get(f"{page}/progress.json").json["status"] == "cancelled"
    twice = post(client, f"{page}/cancel", {}, page)
    assert twice.status_code == 409 and "이미 끝났거나 취소된" in twice.get_data(as_text=True)
    assert audit_actions(ctx, campaign_id) == ["campaign_created", "campaign_started", "campaign_cancelled"]


def test_a_campaign_started_for_later_is_scheduled_at_that_local_time(ctx, client) -> None:
    make_staff(ctx, "kim@seosan.example.kr")
    sign_in(client, "kim@seosan.example.kr")
    campaign_id = created_id(upload(client))
    page = f"/console/campaigns/{campaign_id}"
    later = (ctx.clock().astimezone(ctx.settings.timezone) + timedelta(days=1)).replace(
        second=0, microsecond=0
    )
    assert post(client, f"{page}/start", {"at": later.strftime("%Y-%m-%dT%H:%M")}, page).status_code == 303
    with ctx.engine.connect() as conn:
        row = conn.execute(
            select(campaigns.c.status, campaigns.c.send_at).where(campaigns.c.id == campaign_id)
        ).one()
    assert row.status == "scheduled" and row.send_at == later
    assert client.get(f"{page}/progress.json").json["counts"] == {}  # nothing sent before then


def test_a_test_send_goes_to_the_given_address_and_is_audited(ctx, client) -> None:
    make_staff(ctx, "kim@seosan.example.kr")
    sign_in(client, "kim@seosan.example.kr")
    campaign_id = created_id(upload(client))
    page = f"/console/campaigns/{campaign_id}"
    sent = post(client, f"{page}/test", {"phone": "010-9999-0000", "email": ""}, page)
    assert sent.status_code == 303 and "tested=1" in sent.headers["Location"]
    assert "테스트 메시지를 보냈습니다" in client.get(sent.headers["Location"]).get_data(as_text=True)
    assert audit_actions(ctx, campaign_id) == ["campaign_created", "campaign_test_sent"]
    with ctx.engine.connect() as conn:
        detail = conn.execute(select(audit_log.c.detail).where(audit_log.c.action == "campaign_test_sent"))
        assert "9999-0000" not in detail.scalar_one()  # masked in the log
    for n in range(MAX_TEST_MESSAGES - 1):
        assert (
            post(client, f"{page}/test", {"phone": f"010-9999-{n:04d}", "email": ""}, page).status_code == 303
        )
    used_up = post(client, f"{page}/test", {"phone": "010-9999-9999", "email": ""}, page)
    assert used_up.status_code == 409
    assert f"테스트 메시지를 이미 {MAX_TEST_MESSAGES}건까지 보냈습니다" in used_up.get_data(as_text=True)


CONSENTED = {"sms_advertising": {"given_at": "2026-01-05T10:00:00+09:00"}}


def consented(client, make_key, *phones: str) -> None:
    """Stored recipients with advertising consent, of the owner the console acts for."""
    key = {"Authorization": f"Bearer {make_key('campaigns', name='crm', owner='console')}"}
    for n, phone in enumerate(phones):
        answer = client.put(f"/v1/recipients/p{n}", json={"phone": phone, "consents": CONSENTED}, headers=key)
        assert answer.status_code in (200, 201), answer.json


def test_an_advertising_campaign_starts_only_after_a_managers_approval(ctx, client, make_key) -> None:
    consented(client, make_key, "010-2345-6789")
    make_staff(ctx, "kim@seosan.example.kr")
    make_staff(ctx, "boss@seosan.example.kr", role="manager")
    sign_in(client, "kim@seosan.example.kr")
    campaign_id = created_id(upload(client, category="advertising", opt_out_number="080-123-4567"))
    page = f"/console/campaigns/{campaign_id}"
    html = client.get(page).get_data(as_text=True)
    assert "(광고)" in html and "무료수신거부 080-123-4567" in html  # the markings in the preview
    refused = post(client, f"{page}/start", {}, page)
    assert refused.status_code == 409 and "관리자의 승인" in refused.get_data(as_text=True)
    assert post(client, f"{page}/approve", {}, page).status_code == 403  # staff cannot approve
    assert status_of(ctx, campaign_id) == "draft" and audit_actions(ctx, campaign_id) == ["campaign_created"]
    sign_in(client, "boss@seosan.example.kr")
    assert post(client, f"{page}/approve", {}, page).status_code == 303
    assert "승인함: boss@seosan.example.kr" in client.get(page).get_data(as_text=True)
    sign_in(client, "kim@seosan.example.kr")
    assert post(client, f"{page}/start", {}, page).status_code == 303
    assert status_of(ctx, campaign_id) == "running"
    assert audit_actions(ctx, campaign_id) == ["campaign_created", "campaign_approved", "campaign_started"]


def test_another_centres_campaign_is_not_found_on_every_page_and_form(ctx, client) -> None:
    make_staff(ctx, "lee@gumi.example.kr", centers=["gumi"])
    sign_in(client, "lee@gumi.example.kr")
    theirs = created_id(upload(client, center="gumi", category="advertising", opt_out_number="080-123-4567"))
    make_staff(ctx, "kim@seosan.example.kr")
    make_staff(ctx, "boss@seosan.example.kr", role="manager")
    for email in ("kim@seosan.example.kr", "boss@seosan.example.kr"):
        sign_in(client, email)
        page = f"/console/campaigns/{theirs}"
        for path in (page, f"{page}/progress.json", f"{page}/rejections.csv"):
            answer = client.get(path)
            assert answer.status_code == 404, path
        assert "찾을 수 없습니다" in client.get(page).get_data(as_text=True)
        for action, data in (
            ("test", {"phone": "010-9999-0000"}),
            ("approve", {}),
            ("start", {}),
            ("cancel", {}),
        ):
            assert post(client, f"{page}/{action}", data).status_code == 404, action
        assert theirs not in client.get("/console/campaigns").get_data(as_text=True)
        # Nor can they send for the other centre.
        assert upload(client, center="gumi").status_code == 422
    assert status_of(ctx, theirs) == "draft" and audit_actions(ctx, theirs) == ["campaign_created"]
    make_staff(ctx, "moel@moel.example.kr", role="ministry", centers=[])
    sign_in(client, "moel@moel.example.kr")
    assert client.get(f"/console/campaigns/{theirs}").status_code == 200


def test_bad_campaign_forms_get_a_korean_problem_page_and_change_nothing(ctx, client) -> None:
    make_staff(ctx, "kim@seosan.example.kr")
    sign_in(client, "kim@seosan.example.kr")
    bad = upload(client, None, name="", template="nope", category="spam", channel="fax", center="")
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422
    for words in (
        "캠페인 이름",
        "목록에서 템플릿을",
        "정보성 또는 광고성",
        "채널",
        "CSV 파일을 첨부",
        "아무것도 변경되지",
    ):
        assert words in html
    no_080 = upload(client, category="advertising")
    assert no_080.status_code == 422 and "080 번호가 필요" in no_080.get_data(as_text=True)
    not_csv = upload(client, "\x00\x01\x02 binary")
    assert not_csv.status_code == 422 and "아무것도 변경되지" in not_csv.get_data(as_text=True)
    assert count_campaigns(ctx) == 0
    campaign_id = created_id(upload(client))
    page = f"/console/campaigns/{campaign_id}"
    for at in ("tomorrow", "2020-01-01T10:00", "2030-01-01T10:00+09:00"):
        answer = post(client, f"{page}/start", {"at": at}, page)
        assert answer.status_code == 422 and "예약 시각" in answer.get_data(as_text=True), at
    nobody = post(client, f"{page}/test", {"phone": "", "email": ""}, page)
    assert nobody.status_code == 422 and "테스트를 받을" in nobody.get_data(as_text=True)
    landline = post(client, f"{page}/test", {"phone": "044-202-7369"}, page)
    assert landline.status_code == 422
    no_texts = ("테스트 받을 휴대전화", "문자를 받을 수 있는 휴대전화 번호가 아닙니다.")
    assert problems_of(landline.get_data(as_text=True)) == [no_texts]
    no_token = client.post(f"{page}/start", data={})
    assert no_token.status_code == 400
    assert client.get("/console/campaigns?cursor=garbage").status_code == 422
    assert status_of(ctx, campaign_id) == "draft" and audit_actions(ctx, campaign_id) == ["campaign_created"]


def test_a_campaign_to_stored_recipients_chosen_by_centre_and_tags(ctx, client, make_key) -> None:
    key = {"Authorization": f"Bearer {make_key('campaigns', name='crm', owner='console')}"}
    people = (
        ("p1", "010-2345-0001", "seosan", ["jobseeker"]),
        ("p2", "010-2345-0002", "seosan", []),
        ("p3", "010-2345-0003", "gumi", ["jobseeker"]),
    )
    for external_id, phone, center, tags in people:
        body = {"phone": phone, "center": center, "tags": tags}
        answer = client.put(f"/v1/recipients/{external_id}", json=body, headers=key)
        assert answer.status_code in (200, 201), answer.json
    make_staff(ctx, "kim@seosan.example.kr")
    sign_in(client, "kim@seosan.example.kr")
    campaign_id = created_id(upload(client, None, source="stored", tags="jobseeker"))
    live = client.get(f"/console/campaigns/{campaign_id}/progress.json").json
    assert live["progress"]["total"] == 1  # seosan's, with the tag
    with ctx.engine.connect() as conn:
        source = conn.execute(select(campaigns.c.source).where(campaigns.c.id == campaign_id)).scalar_one()
    assert source == "filter"
    too_many = upload(client, None, source="stored", tags=",".join(f"t{n}" for n in range(21)))
    assert too_many.status_code == 422 and "태그는 20개까지" in too_many.get_data(as_text=True)
    assert upload(client, None, source="elsewhere").status_code == 422


def test_a_list_larger_than_the_request_limit_uploads_up_to_the_upload_limit(ctx, client) -> None:
    make_staff(ctx, "kim@seosan.example.kr")
    sign_in(client, "kim@seosan.example.kr")
    rows = [f"010-{5000 + n // 10000:04d}-{n % 10000:04d},홍길동{n},12월 19일(금)" for n in range(40_000)]
    big = "phone,name,deadline\n" + "\n".join(rows) + "\n"
    assert len(big.encode()) > ctx.settings.max_body_bytes  # over the limit of other requests
    campaign_id = created_id(upload(client, big))
    assert client.get(f"/console/campaigns/{campaign_id}/progress.json").json["progress"]["total"] == 40_000
