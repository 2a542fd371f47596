"""SolapiSender drives the real solapi SDK against the local SOLAPI-compatible server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from notifier.channels.base import Accepted, SmsRequest
from notifier.channels.solapi import (
    INSUFFICIENT_BALANCE,
    MAX_BATCH,
    SolapiSender,
    domestic_number,
    lms_subject,
)
from notifier.config import SolapiSettings
from notifier.errors import UNKNOWN_OUTCOME, ProviderError
from tests.fakes.solapi_server import FakeSolapi

SEOSAN = "+82416615676"  # 서산고용복지+센터, a registered sender
MOBILE = "+821012345678"
OTHER_MOBILE = "+821098765432"


@pytest.fixture
def fake() -> Iterator[FakeSolapi]:
    with FakeSolapi() as fake:
        yield fake


def sender_for(fake: FakeSolapi, secret: str | None = None) -> SolapiSender:
    return SolapiSender(SolapiSettings(fake.api_key, secret or fake.api_secret, fake.base_url))


@pytest.fixture
def solapi(fake: FakeSolapi) -> SolapiSender:
    return sender_for(fake)


def sms(body: str = "[서산고용복지+센터] 내일 10시 상담이 예약되어 있습니다.", **changes: str) -> SmsRequest:
    fields = {"message_id": str(uuid.uuid4()), "to": MOBILE, "sender": SEOSAN, "body": body}
    return SmsRequest(**{**fields, **changes})


def sent(outcome: Accepted | ProviderError) -> Accepted:
    assert isinstance(outcome, Accepted), outcome
    return outcome


def refused(outcome: Accepted | ProviderError) -> ProviderError:
    assert isinstance(outcome, ProviderError), outcome
    return outcome


# -- what reaches SOLAPI -----------------------------------------------------------------


def test_an_sms_goes_from_the_registered_number_in_domestic_format(
    fake: FakeSolapi, solapi: SolapiSender
) -> None:
    request = sms()

    accepted = solapi.send(request)

    [message] = fake.wait_for_messages(1)
    assert (message.from_, message.to, message.type) == ("0416615676", "01012345678", "SMS")
    assert message.text == request.body
    assert message.subject is None
    assert message.custom_fields == {"notifierId": request.message_id}
    assert accepted == Accepted("solapi", message.message_id, extra=accepted.extra)
    assert accepted.extra["status"] == "2000"
    assert accepted.extra["type"] == "SMS"
    [body] = fake.requests
    assert body["showMessageList"] is True


@pytest.mark.parametrize(("nbytes", "kind"), [(90, "SMS"), (91, "LMS")])
def test_the_class_follows_cp949_bytes_at_the_90_byte_edge(
    fake: FakeSolapi, solapi: SolapiSender, nbytes: int, kind: str
) -> None:
    body = "가" * 40 + "a" * (nbytes - 80)  # Hangul is 2 bytes in cp949

    assert solapi.send(sms(body)).extra["type"] == kind

    [message] = fake.wait_for_messages(1)
    assert message.type == kind


def test_an_lms_takes_its_first_line_as_subject_when_it_fits_40_bytes(
    fake: FakeSolapi, solapi: SolapiSender
) -> None:
    first = "[서산고용복지+센터] 도약보장패키지 안내"  # 38 bytes
    body = first + "\n" + "기업·구직자 도약보장패키지 참여자를 모집합니다. " * 5

    solapi.send(sms(body))

    [message] = fake.wait_for_messages(1)
    assert (message.type, message.subject, message.text) == ("LMS", first, body)


def test_subject_is_left_out_when_the_first_line_is_longer_than_40_bytes() -> None:
    assert lms_subject("가" * 20 + "\n본문") == "가" * 20
    assert lms_subject("가" * 21 + "\n본문") is None
    assert lms_subject("한 줄뿐인 본문") is None


def test_a_body_over_2000_bytes_is_refused_before_any_call(fake: FakeSolapi, solapi: SolapiSender) -> None:
    with pytest.raises(ProviderError) as error:
        solapi.send(sms("가" * 1001))

    assert (error.value.retryable, error.value.code) == (False, "body_too_long")
    assert fake.requests == []


@pytest.mark.parametrize(
    ("number", "domestic"),
    [
        ("+82416615676", "0416615676"),
        ("+821012345678", "01012345678"),
        ("+8215881234", "15881234"),
        ("010-1234-5678", "01012345678"),
        ("008221234567", "021234567"),
    ],
)
def test_numbers_are_written_in_domestic_format(number: str, domestic: str) -> None:
    assert domestic_number(number) == domestic


def test_a_foreign_number_is_refused_before_any_call(fake: FakeSolapi, solapi: SolapiSender) -> None:
    with pytest.raises(ProviderError) as error:
        solapi.send(sms(to="+14155550100"))
    assert (error.value.retryable, error.value.code) == (False, "not_domestic")
    assert fake.requests == []


# -- failures ----------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["3010", "3032", "1026", "1041", "1043"])
def test_a_permanent_refusal_is_not_retried_and_keeps_its_code(
    fake: FakeSolapi, solapi: SolapiSender, code: str
) -> None:
    fake.reject_number("01012345678", code)

    with pytest.raises(ProviderError) as error:
        solapi.send(sms())

    assert (error.value.retryable, error.value.code, error.value.provider) == (False, code, "solapi")


def test_an_unregistered_sender_is_refused_for_good(solapi: SolapiSender) -> None:
    with pytest.raises(ProviderError) as error:
        solapi.send(sms(sender="+82212345678"))
    assert (error.value.retryable, error.value.code) == (False, "1062")


def test_insufficient_balance_waits_for_an_operator_to_top_up(fake: FakeSolapi, solapi: SolapiSender) -> None:
    fake.balance = 10

    with pytest.raises(ProviderError) as error:
        solapi.send(sms())

    assert (error.value.retryable, error.value.code) == (True, INSUFFICIENT_BALANCE)
    fake.balance = 1000
    assert solapi.send(sms()).provider == "solapi"


@pytest.mark.parametrize(
    ("status", "code"), [(429, "TooManyRequests"), (500, "InternalServerError"), (503, "ServiceUnavailable")]
)
def test_rate_limits_and_server_errors_are_retried(
    fake: FakeSolapi, solapi: SolapiSender, status: int, code: str
) -> None:
    fake.fail_next(status, code)

    with pytest.raises(ProviderError) as error:
        solapi.send(sms())

    assert error.value.retryable
    assert fake.messages == []


def test_a_wrong_secret_is_refused_and_not_retried(fake: FakeSolapi) -> None:
    with pytest.raises(ProviderError) as error:
        sender_for(fake, secret="not-the-secret").send(sms())
    assert (error.value.retryable, error.value.code) == (False, "SignatureDoesNotMatch")
    assert fake.messages == []


def test_a_provider_that_cannot_be_reached_is_retried(fake: FakeSolapi, solapi: SolapiSender) -> None:
    fake.stop()

    with pytest.raises(ProviderError) as error:
        solapi.send(sms())

    assert (error.value.retryable, error.value.code) == (True, "network")


def test_a_connection_dropped_after_sending_is_an_unknown_outcome_recovery_can_resolve(
    fake: FakeSolapi, solapi: SolapiSender
) -> None:
    request = sms()
    since = datetime.now(UTC)
    fake.drop_next()

    with pytest.raises(ProviderError) as error:
        solapi.send(request)

    assert (error.value.retryable, error.value.code) == (False, UNKNOWN_OUTCOME)
    [message] = fake.messages
    assert solapi.find_sent(request, since) == message.message_id


# -- recovery ----------------------------------------------------------------------------


def test_find_sent_finds_the_accepted_message_and_not_another(fake: FakeSolapi, solapi: SolapiSender) -> None:
    since = datetime.now(UTC)
    request = sms()
    accepted = solapi.send(request)
    solapi.send(sms(to=OTHER_MOBILE))
    solapi.send(sms("다른 내용의 안내입니다."))

    assert solapi.find_sent(request, since) == accepted.provider_message_id
    # Same number, sender and text, but another of our messages: not this one.
    assert solapi.find_sent(sms(request.body), since) is None
    assert solapi.find_sent(sms("보낸 적 없는 내용"), since) is None
    assert solapi.find_sent(request, since + timedelta(minutes=10)) is None


# -- send_many ---------------------------------------------------------------------------


def test_send_many_maps_mixed_results_back_by_our_message_id(fake: FakeSolapi, solapi: SolapiSender) -> None:
    fake.reject_number("01022223333", "3010")
    requests = [
        sms(),
        sms(to="+821022223333"),
        sms(to=OTHER_MOBILE, sender="+82212345678"),
        sms("가" * 1001, to="+821044445555"),
        sms("가" * 50, to="+821055556666"),
    ]

    outcomes = solapi.send_many(requests)

    assert len(fake.requests) == 1
    assert sent(outcomes[0]).extra["type"] == "SMS"
    assert (refused(outcomes[1]).code, refused(outcomes[1]).retryable) == ("3010", False)
    assert refused(outcomes[2]).code == "1062"
    assert refused(outcomes[3]).code == "body_too_long"
    assert sent(outcomes[4]).extra["type"] == "LMS"
    ids = {m.custom_fields["notifierId"]: m.message_id for m in fake.messages}
    assert ids == {
        requests[0].message_id: sent(outcomes[0]).provider_message_id,
        requests[4].message_id: sent(outcomes[4]).provider_message_id,
    }


def test_send_many_with_every_message_refused_gives_each_its_own_code(
    fake: FakeSolapi, solapi: SolapiSender
) -> None:
    fake.reject_number("01022223333", "3010")
    fake.balance = 0

    outcomes = solapi.send_many([sms(to="+821022223333"), sms()])

    assert [refused(o).code for o in outcomes] == ["3010", INSUFFICIENT_BALANCE]
    assert [refused(o).retryable for o in outcomes] == [False, True]


def test_send_many_after_a_dropped_answer_leaves_every_message_unknown(
    fake: FakeSolapi, solapi: SolapiSender
) -> None:
    fake.drop_next()

    outcomes = solapi.send_many([sms(), sms(to=OTHER_MOBILE)])

    assert [refused(o).code for o in outcomes] == [UNKNOWN_OUTCOME, UNKNOWN_OUTCOME]


def test_send_many_refuses_more_than_one_batch(solapi: SolapiSender) -> None:
    with pytest.raises(ValueError, match=str(MAX_BATCH)):
        solapi.send_many([sms() for _ in range(MAX_BATCH + 1)])
