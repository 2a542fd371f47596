"""KakaoTalk AlimTalk through SOLAPI: templates with an approved variant, channel kakao/auto,
SOLAPI's SMS/LMS fallback, and what the person gets.

Read from the outside: the JSON body the SOLAPI fake received, the fake's record of what
reached the handset, the 422s a client gets, and the message with its history.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from notifier.centers import service as centers
from notifier.messages.scheduler import dispatch_due
from notifier.messages.sending import deliver
from notifier.messages.tables import messages
from tests.fakes.solapi_server import FakeSolapi
from tests.integration.test_appointments_api import NOW, booking
from tests.integration.test_delivery import FrozenClock

SECRET = "alimtalk-reports-0123456789abcdefghijk"
PF_ID = "KA01PF_FAKE_CENTRE"
TEMPLATE_ID = "KA01TP_FAKE_REMINDER"
REGISTERED = "#{name}님, #{date}에 상담이 예약되어 있습니다."
ALIMTALK_SOURCE = "{{ recipient.name }}님, {{ appointment.when }}에 상담이 예약되어 있습니다."
PAGE = "https://notifier.example/a/7Kx2pQ"
SMS_SOURCE = "{{ recipient.name }}님, {{ appointment.when }} 상담 예약. {{ appointment.link }}"
ALIMTALK_TEXT = "홍길동님, 12월 3일 오후 2시에 상담이 예약되어 있습니다."
SMS_TEXT = f"홍길동님, 12월 3일 오후 2시 상담 예약. {PAGE}"  # the fallback (대체발송)


@pytest.fixture
def solapi_fake() -> Iterator[FakeSolapi]:
    with FakeSolapi() as fake:
        yield fake


@pytest.fixture
def env(env: dict[str, str], solapi_fake: FakeSolapi) -> dict[str, str]:
    return {
        **env,
        "SOLAPI_API_KEY": solapi_fake.api_key,
        "SOLAPI_API_SECRET": solapi_fake.api_secret,
        "NOTIFIER_SOLAPI_BASE_URL": solapi_fake.base_url,
        "NOTIFIER_SOLAPI_WEBHOOK_SECRET": SECRET,
    }


@pytest.fixture
def seosan_on_kakao(ctx, tmp_path: Path) -> None:
    """서산 with its KakaoTalk channel registered."""
    path = tmp_path / "centre.yaml"
    path.write_text(
        "- code: seosan\n  name: 서산고용복지+센터\n  phone: 041-661-5676\n  sms_sender: 041-661-5676\n"
        f"  sender_numbers: {{solapi: ['041-661-5676']}}\n  kakao_pf_id: {PF_ID}\n",
        encoding="utf-8",
    )
    centers.load(ctx, centers.parse_file(path))


@pytest.fixture
def editor(make_key) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_key('templates', 'send')}"}


def kakao_template(**alimtalk_changes: Any) -> dict[str, Any]:
    variant = {
        "template_id": TEMPLATE_ID,
        "registered_text": REGISTERED,
        "buttons": [{"name": "참석 확인/변경", "type": "WL", "link": "{{ appointment.link }}"}],
        **alimtalk_changes,
    }
    return {
        "description": "상담 예약 알림 (알림톡)",
        "purpose": "reminder",
        "channels": ["sms"],
        "values": {"appointment.when": "일시", "appointment.link": "the person's page"},
        "sample": {
            "recipient": {"name": "홍길동"},
            "appointment": {"when": "12월 3일 오후 2시", "link": PAGE},
        },
        "sources": {
            "ko": {
                "sms.txt": SMS_SOURCE,
                "alimtalk.txt": ALIMTALK_SOURCE,
            }
        },
        "alimtalk": {"ko": variant},
    }


def saved(client, editor, body: dict[str, Any] | None = None) -> None:
    response = client.put("/v1/templates/kakao_reminder", json=body or kakao_template(), headers=editor)
    assert response.status_code == 201, response.json


def message(channel: str = "kakao", code: str = "seosan", **data: str) -> dict[str, Any]:
    return {
        "template": "kakao_reminder",
        "to": {"phone": "010-1234-5678", "name": "홍길동"},
        "channel": channel,
        "center": {"code": code},
        "data": {"appointment": {"when": "12월 3일 오후 2시", "link": PAGE, **data}},
    }


def accepted(client, editor, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/v1/messages", json=body, headers=editor)
    assert response.status_code == 202, response.json
    return response.json


def shown(client, editor, message_id: str) -> dict[str, Any]:
    return client.get(f"/v1/messages/{message_id}", headers=editor).json


# -- templates ---------------------------------------------------------------------------------


def test_a_template_whose_alimtalk_text_differs_from_the_registered_one_is_refused_naming_the_line(
    client, editor
) -> None:
    body = kakao_template(registered_text="안내\n" + REGISTERED)
    body["sources"]["ko"]["alimtalk.txt"] = "안내\n" + ALIMTALK_SOURCE.replace("예약되어", "잡혀")

    response = client.put("/v1/templates/kakao_reminder", json=body, headers=editor)

    assert response.status_code == 422
    [error] = response.json["errors"]
    assert error["pointer"] == "/sources/ko/alimtalk.txt"
    assert error["detail"].startswith("line 2: differs from the registered AlimTalk text")
    assert client.get("/v1/templates/kakao_reminder", headers=editor).status_code == 404


def test_a_template_with_its_alimtalk_variant_is_saved_and_read_back(client, editor) -> None:
    saved(client, editor)

    stored = client.get("/v1/templates/kakao_reminder", headers=editor).json
    assert stored["alimtalk"]["ko"]["template_id"] == TEMPLATE_ID
    assert stored["alimtalk"]["ko"]["registered_text"] == REGISTERED
    assert stored["alimtalk"]["ko"]["buttons"] == [
        {"name": "참석 확인/변경", "type": "WL", "link": "{{ appointment.link }}"}
    ]
    assert stored["sources"]["ko"]["alimtalk.txt"] == ALIMTALK_SOURCE


def test_an_alimtalk_text_without_its_variant_or_a_variant_without_text_is_refused(client, editor) -> None:
    no_text = kakao_template()
    del no_text["sources"]["ko"]["alimtalk.txt"]
    no_variant = kakao_template()
    del no_variant["alimtalk"]

    assert client.put("/v1/templates/kakao_reminder", json=no_text, headers=editor).json["errors"] == [
        {"pointer": "/sources/ko/alimtalk.txt", "detail": "missing: /alimtalk/ko needs the AlimTalk text"}
    ]
    assert client.put("/v1/templates/kakao_reminder", json=no_variant, headers=editor).json["errors"] == [
        {"pointer": "/sources/ko/alimtalk.txt", "detail": "not used: /alimtalk has no 'ko' variant"}
    ]


def test_an_alimtalk_variant_without_the_sms_text_its_fallback_carries_is_refused(client, editor) -> None:
    no_sms = kakao_template()  # an email template with an AlimTalk variant, and no SMS text
    no_sms["channels"] = ["email"]
    del no_sms["sources"]["ko"]["sms.txt"]
    no_sms["sources"]["ko"].update(
        {"email_subject.txt": "상담 예약", "email.html": "<p>상담 예약</p>", "email.txt": "상담 예약"}
    )

    response = client.put("/v1/templates/kakao_reminder", json=no_sms, headers=editor)

    assert response.status_code == 422
    [error] = response.json["errors"]
    assert error["pointer"] == "/sources/ko/sms.txt"
    assert "대체발송" in error["detail"]
    assert client.get("/v1/templates/kakao_reminder", headers=editor).status_code == 404


def test_the_preview_shows_the_alimtalk_its_values_buttons_and_its_sms_fallback(client, editor) -> None:
    saved(client, editor)

    shown_preview = client.post(
        "/v1/templates/kakao_reminder/preview", json={"channel": "kakao"}, headers=editor
    )
    data = {**kakao_template()["sample"], "center": {"name": "서산고용복지+센터"}}
    advertising = client.post(
        "/v1/templates/kakao_reminder/preview",
        json={"channel": "kakao", "advertising": True, "data": data},
        headers=editor,
    )

    preview = shown_preview.json
    assert preview["body"] == ALIMTALK_TEXT
    assert (preview["kr_class"], preview["cp949_bytes"]) == ("SMS", len(SMS_TEXT.encode("cp949")))
    assert preview["alimtalk"] == {
        "template_id": TEMPLATE_ID,
        "variables": {"#{name}": "홍길동", "#{date}": "12월 3일 오후 2시"},
        "buttons": [{"name": "참석 확인/변경", "type": "WL", "link": PAGE}],
        "fallback_text": SMS_TEXT,
        "fallback_class": "SMS",
    }
    assert advertising.status_code == 422
    assert "광고는 알림톡으로 보낼 수 없습니다" in advertising.json["errors"][0]["detail"]


# -- sending -----------------------------------------------------------------------------------


def test_an_alimtalk_reaches_solapi_with_its_channel_template_values_and_button(
    client, editor, ctx, seosan_on_kakao, solapi_fake: FakeSolapi
) -> None:
    saved(client, editor)
    solapi_fake.kakao_users.add("01012345678")
    message_id = accepted(client, editor, message())["id"]

    deliver(ctx, message_id)

    [body] = solapi_fake.requests
    [sent] = body["messages"]
    assert sent["type"] == "ATA"
    assert (sent["from"], sent["to"]) == ("0416615676", "01012345678")
    assert sent["kakaoOptions"]["pfId"] == PF_ID
    assert sent["kakaoOptions"]["templateId"] == TEMPLATE_ID
    assert sent["kakaoOptions"]["variables"] == {"#{name}": "홍길동", "#{date}": "12월 3일 오후 2시"}
    assert sent["kakaoOptions"]["disableSms"] is False
    assert sent["kakaoOptions"]["buttons"] == [
        {"buttonName": "참석 확인/변경", "buttonType": "WL", "linkMo": PAGE, "linkPc": PAGE}
    ]
    assert sent["customFields"] == {"notifierId": message_id}
    assert sent["replacements"] == [{"from": "0416615676", "to": "01012345678", "text": SMS_TEXT}]
    with ctx.engine.connect() as conn:  # stored with the message when it was accepted
        row = conn.execute(
            select(messages.c.data, messages.c.kr_class).where(messages.c.id == message_id)
        ).one()
    assert (row.data["_alimtalk"]["fallback_text"], row.data["_alimtalk"]["fallback_class"]) == (
        SMS_TEXT,
        "SMS",
    )
    assert row.kr_class == "SMS"
    [registered] = solapi_fake.messages
    assert registered.text == ALIMTALK_TEXT
    assert shown(client, editor, message_id)["status"] == "sent"


def test_a_kakao_user_gets_the_alimtalk_and_nothing_else(
    client, editor, ctx, seosan_on_kakao, solapi_fake: FakeSolapi, live_api: str
) -> None:
    saved(client, editor)
    solapi_fake.kakao_users.add("01012345678")
    message_id = accepted(client, editor, message())["id"]
    deliver(ctx, message_id)

    for settled in solapi_fake.deliver():
        assert solapi_fake.send_report(f"{live_api}/webhooks/solapi/{SECRET}", settled.message_id) == 204

    [reached] = solapi_fake.received("01012345678")
    assert (reached.type, reached.text) == ("ATA", ALIMTALK_TEXT)
    message_now = shown(client, editor, message_id)
    assert (message_now["status"], message_now["delivered_via"]) == ("delivered", "kakao")


def test_someone_without_kakaotalk_gets_the_templates_sms_text_once_and_the_history_shows_it(
    client, editor, ctx, seosan_on_kakao, solapi_fake: FakeSolapi, live_api: str
) -> None:
    saved(client, editor)
    message_id = accepted(client, editor, message())["id"]
    deliver(ctx, message_id)

    settled = solapi_fake.deliver()  # not a KakaoTalk user: 3104, then SOLAPI's fallback SMS
    for report in settled:
        assert solapi_fake.send_report(f"{live_api}/webhooks/solapi/{SECRET}", report.message_id) == 204

    [reached] = solapi_fake.received("01012345678")  # one message, the SMS text, not the AlimTalk's
    assert (reached.type, reached.from_, reached.text) == ("SMS", "0416615676", SMS_TEXT)
    message_now = shown(client, editor, message_id)
    assert (message_now["status"], message_now["delivered_via"]) == ("delivered", "sms")
    details = [h["detail"] or "" for h in message_now["history"]]
    assert any("ATA 3104" in d and "fallback" in d for d in details), details
    assert details[-1].endswith("(SMS/LMS fallback)")


def test_a_long_sms_text_reaches_someone_without_kakaotalk_as_one_lms(
    client, editor, ctx, seosan_on_kakao, solapi_fake: FakeSolapi, live_api: str
) -> None:
    body = kakao_template()
    notice = "방문 시 신분증을 지참해 주세요. 일정 변경은 링크에서 하실 수 있습니다."
    long_sms = f"서산고용복지+센터 상담 안내\n{SMS_SOURCE}\n{notice}"
    body["sources"]["ko"]["sms.txt"] = long_sms
    saved(client, editor, body)
    message_id = accepted(client, editor, message())["id"]
    deliver(ctx, message_id)

    [sent] = solapi_fake.requests[-1]["messages"]
    [replacement] = sent["replacements"]
    assert len(replacement["text"].encode("cp949")) > 90
    assert replacement["subject"] == "서산고용복지+센터 상담 안내"
    for report in solapi_fake.deliver():
        assert solapi_fake.send_report(f"{live_api}/webhooks/solapi/{SECRET}", report.message_id) == 204

    [reached] = solapi_fake.received("01012345678")
    assert (reached.type, reached.text) == ("LMS", replacement["text"])
    assert reached.text.startswith("서산고용복지+센터 상담 안내\n홍길동님, 12월 3일 오후 2시 상담 예약.")
    message_now = shown(client, editor, message_id)
    assert (message_now["status"], message_now["delivered_via"]) == ("delivered", "lms")
    assert message_now["history"][-1]["detail"].endswith("(SMS/LMS fallback)")


def test_an_sms_fallback_text_too_long_for_an_lms_refuses_the_alimtalk_with_a_422(
    client, editor, ctx, seosan_on_kakao, solapi_fake: FakeSolapi
) -> None:
    saved(client, editor)

    response = client.post("/v1/messages", json=message(when="가" * 1000), headers=editor)

    assert response.status_code == 422
    assert any("bytes" in e["detail"] for e in response.json["errors"]), response.json
    assert solapi_fake.requests == []


def test_an_alimtalk_solapi_finds_different_from_the_approved_template_fails_with_its_reason(
    client, editor, ctx, seosan_on_kakao, solapi_fake: FakeSolapi
) -> None:
    saved(client, editor)
    solapi_fake.templates[PF_ID][TEMPLATE_ID] = "#{name}님, #{date} 상담 안내입니다."  # approved since
    message_id = accepted(client, editor, message())["id"]

    deliver(ctx, message_id)

    message_now = shown(client, editor, message_id)
    assert message_now["status"] == "failed"
    assert message_now["error"] == {"code": "1043", "reason": "등록한 템플릿과 내용이 다릅니다."}
    assert solapi_fake.messages == []


def test_auto_prefers_alimtalk_where_the_centre_has_a_channel_else_sms(
    client, editor, ctx, seosan_on_kakao, solapi_fake: FakeSolapi
) -> None:
    saved(client, editor)

    assert accepted(client, editor, message("auto"))["channel"] == "kakao"
    assert accepted(client, editor, message("auto", code="gumi"))["channel"] == "sms"  # gumi has no pfId
    # the button needs the person's page: without one the message goes as SMS
    assert accepted(client, editor, message("auto", link=""))["channel"] == "sms"


def test_kakao_for_a_centre_without_a_channel_is_a_422_that_says_why(client, editor, ctx) -> None:
    saved(client, editor)

    response = client.post("/v1/messages", json=message(code="gumi"), headers=editor)

    assert response.status_code == 422
    assert response.json["errors"] == [
        {"pointer": "/center", "detail": "센터에 카카오톡 채널(pfId)이 등록되어 있지 않습니다."}
    ]


@pytest.mark.parametrize(
    ("category", "says"), [("advertising", "광고는 알림톡으로 보낼 수 없습니다"), ("informational", "아직")]
)
def test_a_campaign_by_alimtalk_is_a_422_and_advertising_hears_kakaos_rule(
    client, make_key, seosan_on_kakao, solapi_fake: FakeSolapi, category: str, says: str
) -> None:
    admin = {"Authorization": f"Bearer {make_key('campaigns')}"}
    body = {
        "name": "12월 채용박람회 안내",
        "template": "program_announcement_jobseekers",
        "category": category,
        "center": "seosan",
        "channel": "kakao",
        "opt_out_number": "080-123-4567",
        "recipients": [{"phone": "010-2345-6789", "name": "홍길동"}],
    }

    response = client.post("/v1/campaigns", json=body, headers=admin)

    assert response.status_code == 422
    on_channel = [e["detail"] for e in response.json["errors"] if e["pointer"] == "/channel"]
    assert any(says in detail for detail in on_channel), on_channel
    assert client.get("/v1/campaigns", headers=admin).json["items"] == []
    assert solapi_fake.requests == []


def test_an_alimtalk_whose_answer_was_lost_is_recovered_from_solapis_list_not_sent_twice(
    client, editor, ctx, seosan_on_kakao, solapi_fake: FakeSolapi
) -> None:
    from datetime import UTC, datetime

    from notifier.messages import scheduler
    from tests.integration.test_delivery import FrozenClock

    ctx.clock = clock = FrozenClock(datetime.now(UTC))
    saved(client, editor)
    message_id = accepted(client, editor, message())["id"]
    solapi_fake.drop_next()  # SOLAPI registers it, and the connection closes unanswered

    assert deliver(ctx, message_id).status == "sending"  # the outcome is unknown: recovery asks
    clock.advance(ctx.settings.stuck_after.total_seconds() + 1)
    report = scheduler.tick(ctx)

    assert (report.recovered_sent, report.recovered_requeued) == (1, 0)
    [registered] = solapi_fake.messages
    assert registered.type == "ATA"
    message_now = shown(client, editor, message_id)
    assert message_now["status"] == "sent"
    assert message_now["provider_message_id"] == registered.message_id
    assert len(solapi_fake.requests) == 1
    assert solapi_fake.list_queries  # it asked SOLAPI's message list


def test_an_alimtalk_counts_against_solapis_rate_for_its_sender_number(ctx) -> None:
    from notifier.campaigns.service import sender_buckets

    row = {"channel": "kakao", "sender": "+82416615676", "campaign_id": None}
    sms_row = {**row, "channel": "sms"}

    assert [b.name for b in sender_buckets(ctx, row)] == ["solapi:+82416615676"]
    assert sender_buckets(ctx, row) == sender_buckets(ctx, sms_row)  # one budget for the number


# -- appointments -------------------------------------------------------------------------------


@pytest.fixture
def frozen(ctx):
    ctx.clock = FrozenClock(NOW)
    return ctx.clock


@pytest.fixture
def admin_key(make_key) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_key('admin', 'appointments')}"}


def button_link(sent: dict[str, Any]) -> str:
    return str(sent["kakaoOptions"]["buttons"][0]["linkMo"])


def add_alimtalk_to_the_shipped_reminder(client, admin) -> None:
    stored = client.get("/v1/templates/appointment_reminder", headers=admin).json
    edit = copy.deepcopy(
        {
            k: v
            for k, v in stored.items()
            if k not in ("key", "version", "created_at", "created_by", "saved_by")
        }
    )
    edit["sources"]["ko"]["alimtalk.txt"] = ALIMTALK_SOURCE
    edit["alimtalk"] = {
        "ko": {
            "template_id": TEMPLATE_ID,
            "registered_text": REGISTERED,
            "buttons": [{"name": "참석 확인/변경", "type": "WL", "link": "{{ appointment.link }}"}],
        }
    }
    response = client.put("/v1/templates/appointment_reminder", json=edit, headers=admin)
    assert response.status_code == 200, response.json


def test_an_appointment_reminder_goes_by_alimtalk_with_a_button_to_the_persons_page(
    client, admin_key, ctx, frozen, seosan_on_kakao, solapi_fake: FakeSolapi
) -> None:
    add_alimtalk_to_the_shipped_reminder(client, admin_key)
    solapi_fake.kakao_users.add("01012345678")
    appointment = client.put("/v1/appointments/k1", json=booking(), headers=admin_key).json
    [reminder, *_] = [m for m in appointment["messages"] if m["purpose"] == "reminder"]
    confirmation = next(m for m in appointment["messages"] if m["purpose"] == "confirmation")
    assert (reminder["channel"], confirmation["channel"]) == (
        "kakao",
        "sms",
    )  # only the reminder has a variant

    frozen.now = datetime.fromisoformat(reminder["send_at"].replace("Z", "+00:00"))
    dispatch_due(ctx)
    deliver(ctx, reminder["id"])

    [sent] = solapi_fake.requests[-1]["messages"]
    assert (sent["type"], sent["kakaoOptions"]["pfId"]) == ("ATA", PF_ID)
    assert sent["kakaoOptions"]["variables"]["#{name}"] == "홍길동"
    [fallback] = sent["replacements"]  # the shipped reminder's SMS text, with the same short link
    assert (fallback["from"], fallback["to"]) == ("0416615676", "01012345678")
    assert fallback["text"] != ALIMTALK_TEXT and button_link(sent) in fallback["text"]
    [button] = sent["kakaoOptions"]["buttons"]
    assert button["buttonName"] == "참석 확인/변경"
    answer = client.get("/s/" + button["linkMo"].rsplit("/s/", 1)[1])
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith("/a/" + appointment["page_url"].rsplit("/a/", 1)[1])
