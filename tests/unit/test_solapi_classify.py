"""SOLAPI SDK failures sort into retry-later, give-up and ask-before-resending."""

from __future__ import annotations

import json

import httpx
import pydantic
import pytest
from solapi.model.response.send_message_response import SendMessageResponse

from notifier.channels.solapi import INSUFFICIENT_BALANCE, classify, refusal
from notifier.errors import UNKNOWN_OUTCOME

REQUEST = httpx.Request("POST", "https://api.solapi.com/messages/v4/send-many/detail")


@pytest.mark.parametrize(
    "error", [httpx.ConnectError("refused", request=REQUEST), httpx.ConnectTimeout("slow")]
)
def test_a_request_that_never_reached_solapi_is_retried(error: Exception) -> None:
    assert (classify(error).retryable, classify(error).code) == (True, "network")


@pytest.mark.parametrize(
    "error",
    [httpx.ReadTimeout("no answer"), httpx.WriteTimeout("half sent"), httpx.RemoteProtocolError("closed")],
)
def test_a_timeout_after_sending_is_left_for_recovery(error: Exception) -> None:
    assert (classify(error).retryable, classify(error).code) == (False, UNKNOWN_OUTCOME)


def test_an_answer_the_sdk_cannot_read_is_an_unknown_outcome() -> None:
    with pytest.raises(pydantic.ValidationError) as error:
        SendMessageResponse.model_validate({"groupInfo": {}})
    assert classify(error.value).code == UNKNOWN_OUTCOME
    assert classify(Exception("<html>ok</html>")).code == UNKNOWN_OUTCOME


@pytest.mark.parametrize(
    ("args", "retryable"),
    [
        (("InvalidAPIKey", "유효한 API Key가 아닙니다."), False),
        (("SignatureDoesNotMatch", "signature"), False),
        (("TooManyRequests", "slow down"), True),
        (("UnknownError", "<html>502 Bad Gateway</html>"), True),
        (("ValidationError", "messages"), False),
    ],
)
def test_http_errors_keep_solapis_error_code(args: tuple[str, str], retryable: bool) -> None:
    classified = classify(Exception(*args))
    assert (classified.code, classified.retryable, classified.provider) == (args[0], retryable, "solapi")


def test_an_unreadable_4xx_answer_is_retried() -> None:
    assert classify(json.JSONDecodeError("Expecting value", "<html>", 0)).retryable


@pytest.mark.parametrize("code", ["1030", "2230"])
def test_insufficient_balance_is_retried_under_one_code(code: str) -> None:
    assert (refusal(code, "잔액 부족").retryable, refusal(code, "").code) == (True, INSUFFICIENT_BALANCE)


@pytest.mark.parametrize(
    "code", ["1010", "1025", "1026", "1031", "1041", "1042", "1043", "1062", "3010", "3032"]
)
def test_other_refusals_are_permanent(code: str) -> None:
    assert (refusal(code, "").retryable, refusal(code, "").code) == (False, code)
