"""The composition root orders the SMS providers: SOLAPI, then Twilio; the outbox without either."""

from __future__ import annotations

from datetime import datetime

from notifier.bootstrap import sms_providers
from notifier.channels.base import Accepted, SmsRequest
from notifier.channels.failover import FailoverSender, NoBreaker
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


def sms(env: dict[str, str], outbox: Outbox | None = None) -> FailoverSender:
    settings = Settings.from_env(env)
    return FailoverSender(sms_providers(settings, outbox or Outbox()), settings.sms_routes, NoBreaker())


def test_solapi_comes_first_when_both_providers_are_configured() -> None:
    chosen = sms({**BASE, **TWILIO, **SOLAPI})
    assert chosen.order(None) == ["solapi", "twilio"]
    solapi = chosen.providers["solapi"]
    assert isinstance(solapi, SolapiSender)
    assert solapi.service.base_url == "http://127.0.0.1:9"
    assert isinstance(chosen.providers["twilio"], TwilioSender)


def test_the_order_is_configurable_per_centre() -> None:
    chosen = sms({**BASE, **TWILIO, **SOLAPI, "NOTIFIER_SMS_PROVIDERS": "solapi,twilio;seosan=twilio,solapi"})
    assert chosen.order("seosan") == ["twilio", "solapi"]
    assert chosen.order("cheonan") == ["solapi", "twilio"]


def test_twilio_is_used_without_solapi() -> None:
    chosen = sms({**BASE, **TWILIO})
    assert chosen.order(None) == ["twilio"] and chosen.name == "twilio"


def test_the_outbox_is_used_without_any_provider() -> None:
    outbox = Outbox()
    chosen = sms(BASE, outbox)
    assert chosen.order(None) == ["sandbox"] and chosen.providers["sandbox"] is outbox
