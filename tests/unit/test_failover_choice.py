"""Which provider a message goes to, and when it may move to the next one.

The providers here are small in-memory senders (the SmsSender interface); the network edge is
tested against the fakes in tests/integration/test_failover.py.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from notifier.channels.base import Accepted, SmsRequest
from notifier.channels.failover import NO_PROVIDER, FailoverSender
from notifier.domain.breaker import Circuit
from notifier.domain.routes import SmsRoutes
from notifier.errors import UNKNOWN_OUTCOME, ProviderError

REQUEST = SmsRequest("m1", "+821012345678", "+82416615676", "안녕하세요")


class Provider:
    def __init__(self, name: str, error: ProviderError | None = None) -> None:
        self.name = name
        self.error = error
        self.sent: list[str] = []

    def send(self, request: SmsRequest) -> Accepted:
        self.sent.append(request.message_id)
        if self.error is not None:
            raise self.error
        return Accepted(self.name, f"{self.name}-1")

    def find_sent(self, request: SmsRequest, since: datetime) -> str | None:
        return f"{self.name}-1" if request.message_id in self.sent else None


class Breaker:
    """Counts what the sender reports; ``out`` lists providers out of rotation."""

    def __init__(self, *out: str) -> None:
        self.out = set(out)
        self.failures: list[str] = []
        self.successes: list[str] = []

    def state(self, provider: str) -> Circuit:
        return Circuit.OPEN if provider in self.out else Circuit.CLOSED

    def available(self, provider: str) -> bool:
        return provider not in self.out

    def succeeded(self, provider: str, calls: int = 1) -> None:
        self.successes.append(provider)

    def failed(self, provider: str) -> bool:
        self.failures.append(provider)
        return False


def senders(
    solapi_error: ProviderError | None, breaker: Breaker
) -> tuple[FailoverSender, Provider, Provider]:
    solapi, twilio = Provider("solapi", solapi_error), Provider("twilio")
    return FailoverSender({"solapi": solapi, "twilio": twilio}, SmsRoutes(), breaker), solapi, twilio


def test_a_refused_request_moves_on_and_the_switch_is_recorded_first() -> None:
    breaker = Breaker()
    sms, solapi, twilio = senders(ProviderError(True, "network", "connection refused", "solapi"), breaker)
    switched: list[str] = []

    accepted = sms.send(REQUEST, recorded="solapi", switch=lambda name: switched.append(name) or True)

    assert accepted.provider == "twilio"
    assert (solapi.sent, twilio.sent, switched) == (["m1"], ["m1"], ["twilio"])
    assert breaker.failures == ["solapi"] and breaker.successes == ["twilio"]


@pytest.mark.parametrize(
    ("error", "counted_as_failure"),
    [
        (ProviderError(False, UNKNOWN_OUTCOME, "read timeout", "solapi"), True),  # may have taken it
        (ProviderError(False, "3010", "invalid number", "solapi"), False),  # it answered
        (ProviderError(True, "TooManyRequests", "slow down", "solapi", 429), False),  # healthy, busy
    ],
)
def test_what_solapi_may_have_taken_or_refused_for_good_never_goes_to_twilio(
    error: ProviderError, counted_as_failure: bool
) -> None:
    breaker = Breaker()
    sms, _, twilio = senders(error, breaker)

    with pytest.raises(ProviderError) as raised:
        sms.send(REQUEST, recorded="solapi")

    assert raised.value is error and twilio.sent == []
    assert breaker.failures == (["solapi"] if counted_as_failure else [])


def test_a_provider_out_of_rotation_is_skipped_and_the_claim_records_the_next() -> None:
    breaker = Breaker("solapi")
    sms, solapi, _ = senders(None, breaker)

    assert sms.first(None) == "twilio"
    assert sms.send(REQUEST, recorded="twilio").provider == "twilio"
    assert solapi.sent == []


def test_with_every_provider_out_of_rotation_the_message_waits() -> None:
    sms, _, _ = senders(None, Breaker("solapi", "twilio"))
    with pytest.raises(ProviderError) as raised:
        sms.send(REQUEST)
    assert (raised.value.code, raised.value.retryable) == (NO_PROVIDER, True)


def test_recovery_asks_only_the_provider_recorded_on_the_message() -> None:
    sms, _, twilio = senders(None, Breaker())
    twilio.sent.append("m1")  # Twilio took it
    assert sms.find_sent_by(REQUEST, datetime(2026, 12, 4), "solapi") is None
    assert sms.find_sent_by(REQUEST, datetime(2026, 12, 4), "twilio") == ("twilio", "twilio-1")
