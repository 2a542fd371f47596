"""The fake SOLAPI answers the real solapi SDK (5.0.3) as api.solapi.com does."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from solapi import SolapiMessageService
from solapi.error.MessageNotReceiveError import MessageNotReceivedError
from solapi.lib.authenticator import Authenticator
from solapi.model import KakaoOption, MessageType, RequestMessage, SendRequestConfig
from solapi.model.request.messages.get_messages import GetMessagesRequest
from solapi.model.webhook.single_report import SingleReportPayload

from notifier.channels.solapi_kakao import post_send_many
from tests.fakes.solapi_auth import authorization
from tests.fakes.solapi_server import SEND_MANY_MAX_MESSAGES, FakeSolapi
from tests.fakes.webhook_receiver import WebhookReceiver

SENDER = "041-661-5676"  # the SDK strips the dashes
PF_ID = "KA01PF_FAKE_CENTRE"
TEMPLATE_ID = "KA01TP_FAKE_REMINDER"


@pytest.fixture
def fake() -> Iterator[FakeSolapi]:
    with FakeSolapi() as fake:
        yield fake


def service_for(
    fake: FakeSolapi, api_key: str | None = None, secret: str | None = None
) -> SolapiMessageService:
    service = SolapiMessageService(api_key or fake.api_key, secret or fake.api_secret)
    service.base_url = fake.base_url
    return service


@pytest.fixture
def service(fake: FakeSolapi) -> SolapiMessageService:
    return service_for(fake)


def text(to: str = "010-1234-5678", body: str = "안녕하세요", **changes: object) -> RequestMessage:
    return RequestMessage(from_=SENDER, to=to, text=body, **changes)


def alimtalk(to: str = "01012345678", **variables: str) -> RequestMessage:
    values = {"name": "홍길동", "date": "12월 5일 10:00", **variables}
    options = KakaoOption(pf_id=PF_ID, template_id=TEMPLATE_ID, variables=values)
    return RequestMessage(from_=SENDER, to=to, type=MessageType.ATA, kakao_options=options)


def balance(fake: FakeSolapi, header: str | None) -> httpx.Response:
    headers = {"Authorization": header} if header is not None else {}
    return httpx.get(f"{fake.base_url}/cash/v1/balance", headers=headers)


# -- signatures --------------------------------------------------------------------------


def test_the_sdks_signature_is_accepted_once_and_a_replay_is_refused(fake: FakeSolapi) -> None:
    header = Authenticator(fake.api_key, fake.api_secret).get_auth_info()

    assert balance(fake, header).status_code == 200
    replay = balance(fake, header)

    assert replay.status_code == 403
    assert replay.json()["errorCode"] == "DuplicatedSignature"


def test_parameter_names_are_compared_without_case(fake: FakeSolapi) -> None:
    date = datetime.now(UTC).isoformat()
    header = authorization(fake.api_key, fake.api_secret, date, uuid.uuid4().hex)
    lower = header.replace("ApiKey=", "apiKey=").replace("Date=", "date=")

    assert balance(fake, lower).status_code == 200


@pytest.mark.parametrize(("offset", "status"), [(14, 200), (-14, 200), (16, 403), (-16, 403)])
def test_a_date_more_than_15_minutes_off_is_refused(fake: FakeSolapi, offset: int, status: int) -> None:
    date = (datetime.now(UTC) + timedelta(minutes=offset)).isoformat()

    answer = balance(fake, authorization(fake.api_key, fake.api_secret, date, uuid.uuid4().hex))

    assert answer.status_code == status
    if status == 403:
        assert answer.json()["errorCode"] == "RequestTimeTooSkewed"


@pytest.mark.parametrize(
    ("header", "code"),
    [
        (None, "InvalidAuthorization"),
        ("Bearer abc", "InvalidAuthorization"),
        ("HMAC-SHA256 ApiKey=x, Date=y", "InvalidAuthorization"),
    ],
)
def test_a_missing_or_malformed_header_is_refused(fake: FakeSolapi, header: str | None, code: str) -> None:
    answer = balance(fake, header)
    assert (answer.status_code, answer.json()["errorCode"]) == (403, code)


def test_an_unknown_key_and_a_wrong_secret_reach_the_sdk_as_its_bare_exception(fake: FakeSolapi) -> None:
    for service, code in [
        (service_for(fake, api_key="NCSUNKNOWN"), "InvalidAPIKey"),
        (service_for(fake, secret="wrong"), "SignatureDoesNotMatch"),
    ]:
        with pytest.raises(Exception) as error:  # noqa: PT011 - the SDK raises nothing narrower
            service.send(text())
        assert type(error.value) is Exception
        assert error.value.args[0] == code
    assert fake.requests == []


# -- sending -----------------------------------------------------------------------------


def test_send_many_detail_answers_what_the_sdk_validates(
    fake: FakeSolapi, service: SolapiMessageService
) -> None:
    answer = service.send(
        [text(custom_fields={"notifierId": "n-1"}), text(to="01000001111", subject="제목")],
        SendRequestConfig(show_message_list=True),
    )

    assert answer.group_info.count.registered_success == 2
    assert [m.custom_fields for m in answer.message_list] == [{"notifierId": "n-1"}, None]
    sms, lms = fake.messages
    assert (sms.type, sms.from_, sms.to) == ("SMS", "0416615676", "01012345678")
    assert (lms.type, lms.subject) == ("LMS", "제목")
    [body] = fake.requests
    assert body["messages"][0]["country"] == "82"
    assert body["agent"]["sdkVersion"] == "python/5.0.3"


def test_without_show_message_list_no_per_message_ids_come_back(service: SolapiMessageService) -> None:
    assert service.send(text()).message_list is None


def test_every_message_refused_raises_message_not_received(service: SolapiMessageService) -> None:
    with pytest.raises(MessageNotReceivedError) as error:
        service.send(RequestMessage(from_="070-0000-0000", to="01012345678", text="x"))
    [failed] = error.value.failed_messages
    assert failed.status_code == "1062"


def test_an_sms_over_90_bytes_and_a_long_subject_are_refused(service: SolapiMessageService) -> None:
    for message in [text(body="가" * 46, type=MessageType.SMS), text(body="본문", subject="가" * 21)]:
        with pytest.raises(MessageNotReceivedError) as error:
            service.send(message)
        assert error.value.failed_messages[0].status_code == "1031"


def test_the_documented_send_many_limit_is_enforced(fake: FakeSolapi, service: SolapiMessageService) -> None:
    fake.balance = 1e9
    with pytest.raises(Exception) as error:  # noqa: PT011 - the SDK raises nothing narrower
        service.send(text(to=[f"010{n:08d}" for n in range(SEND_MANY_MAX_MESSAGES + 1)]))
    assert error.value.args[0] == "ValidationError"
    assert fake.messages == []


# -- AlimTalk ----------------------------------------------------------------------------


def test_an_alimtalk_matching_its_template_is_accepted_and_one_that_differs_refused(
    fake: FakeSolapi, service: SolapiMessageService
) -> None:
    fake.kakao_users.add("01012345678")
    service.send(alimtalk())
    [message] = fake.messages
    assert message.text == "홍길동님, 12월 5일 10:00에 상담이 예약되어 있습니다."

    changed = alimtalk().model_copy(update={"text": "홍길동님, 상담 시간이 바뀌었습니다."})
    with pytest.raises(MessageNotReceivedError) as error:
        service.send(changed)
    assert error.value.failed_messages[0].status_code == "1043"


def test_someone_without_kakaotalk_gets_the_sms_replacement_instead(
    fake: FakeSolapi, service: SolapiMessageService
) -> None:
    service.send(alimtalk(to="01055556666"))

    fake.deliver()

    original, replacement = fake.messages
    assert (original.type, original.status_code) == ("ATA", "3104")
    assert (replacement.type, replacement.status_code, replacement.replacement) == ("SMS", "4000", True)
    assert replacement.to == "01055556666"


def alimtalk_with_replacement(sender: str, text: str, **extra: str) -> dict[str, Any]:
    """A send body the SDK's models cannot express: an AlimTalk with its replacement message."""
    body = {"messages": [alimtalk().model_dump(exclude_none=True, by_alias=True)], "showMessageList": True}
    body["messages"][0]["replacements"] = [{"from": sender, "to": "01012345678", "text": text, **extra}]
    return body


@pytest.mark.parametrize(
    ("text", "extra", "kind"),
    [
        ("대체 문자: 12월 5일 상담", {}, "SMS"),
        ("가" * 46, {}, "LMS"),
        ("짧은 본문", {"subject": "상담 안내"}, "LMS"),
    ],
    ids=["sms", "lms-by-size", "lms-by-subject"],
)
def test_someone_without_kakaotalk_gets_the_replacements_text_as_sms_or_lms_by_its_size(
    fake: FakeSolapi, service: SolapiMessageService, text: str, extra: dict[str, str], kind: str
) -> None:
    post_send_many(service, alimtalk_with_replacement("0416615676", text, **extra))

    fake.deliver()

    [reached] = fake.received("01012345678")
    assert (reached.type, reached.from_, reached.text) == (kind, "0416615676", text)
    assert reached.replacement
    [report] = fake.report(reached.message_id)
    assert (report["data"]["type"], report["data"]["statusCode"]) == (kind, "4000")


def test_a_replacement_from_an_unregistered_number_is_refused_like_solapi_does(
    fake: FakeSolapi, service: SolapiMessageService
) -> None:
    answer = post_send_many(service, alimtalk_with_replacement("0212345678", "대체 문자"))

    [failed] = answer.failed_message_list or []
    assert failed.status_code == "1062"
    assert fake.messages == []


# -- listing and reports -----------------------------------------------------------------


def test_the_list_filters_pages_and_follows_the_date_window(
    fake: FakeSolapi, service: SolapiMessageService
) -> None:
    answer = service.send(
        [text(to=f"0101111000{n}") for n in range(5)], SendRequestConfig(show_message_list=True)
    )
    ids = [m.message_id for m in answer.message_list]

    first = service.get_messages(GetMessagesRequest(limit=2))
    second = service.get_messages(GetMessagesRequest(limit=2, start_key=first.next_key))
    one = service.get_messages(GetMessagesRequest(to="01011110003", from_="0416615676"))
    later = service.get_messages(
        GetMessagesRequest(start_date=(datetime.now(UTC) + timedelta(minutes=1)).isoformat())
    )

    assert list(first.message_list) + list(second.message_list) == ids[:4]
    assert list(one.message_list) == [ids[3]]
    assert later.message_list == {}


def test_a_status_report_reaches_a_url_in_the_sdks_webhook_shape(
    fake: FakeSolapi, service: SolapiMessageService
) -> None:
    answer = service.send(
        text(custom_fields={"notifierId": "n-7"}), SendRequestConfig(show_message_list=True)
    )
    message_id = answer.message_list[0].message_id
    fake.fail_delivery("01012345678", "3010")
    fake.deliver()

    with WebhookReceiver() as receiver:
        assert fake.send_report(receiver.url, message_id) == 200
        [received] = receiver.wait_for(1)

    [report] = SingleReportPayload.model_validate(json.loads(received.body)).root
    assert (report.data.message_id, report.data.status_code) == (message_id, "3010")
    assert report.data.custom_fields == {"notifierId": "n-7"}
