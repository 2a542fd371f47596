"""The composition root picks one SMS provider: SOLAPI, else Twilio, else the outbox."""

from __future__ import annotations

from datetime import datetime

from notifier.bootstrap import sms_sender
from notifier.channels.base import Accepted, SmsRequest
from notifier.channels.solapi import SolapiSender
from notifier.channels.twilio_sms import TwilioSender
from notifier.config import Settings

BASE = {"NOTIFIER_SECRET_KEY": "x"}
TWILIO = {"TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": "t", "TWILIO_FROM": "+82416615676"}
SOLAPI = {
    "SOLAPI_API_KEY": "NCSKEY",
    "SOLAPI_API_SECRET": "secret",
    "NOTIFIER_SOLAPI_BASE_URL": "http://127.0.0.1:9",
}


class Outbox:
    name = "sandbox"

    def send(self, request: SmsRequest) -> Accepted:
        return Accepted(self.name, request.message_id, sandboxed=True)

    def find_sent(self, request: SmsRequest, since: datetime) -> str | None:
        return None


def test_solapi_comes_first_when_both_providers_are_configured() -> None:
    chosen = sms_sender(Settings.from_env({**BASE, **TWILIO, **SOLAPI}), Outbox())
    assert isinstance(chosen, SolapiSender)
    assert chosen.service.base_url == "http://127.0.0.1:9"


def test_twilio_is_used_without_solapi() -> None:
    assert isinstance(sms_sender(Settings.from_env({**BASE, **TWILIO}), Outbox()), TwilioSender)


def test_the_outbox_is_used_without_any_provider() -> None:
    outbox = Outbox()
    assert sms_sender(Settings.from_env(BASE), outbox) is outbox
