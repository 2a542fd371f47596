"""`notifier dev` tells the truth about where messages go."""

from __future__ import annotations

from notifier.cli.processes import where_messages_go, where_the_outbox_is
from notifier.config import Settings

BASE = {"NOTIFIER_DATA_DIR": "/tmp/notifier-unit-dev", "NOTIFIER_SECRET_KEY": "x" * 32}


def test_with_nothing_configured_both_channels_stay_in_the_outbox() -> None:
    lines = where_messages_go(Settings.from_env(BASE))
    assert all("nothing leaves this machine" in line for line in lines)


def test_with_smtp_set_email_is_said_to_leave_and_sms_to_stay() -> None:
    settings = Settings.from_env({**BASE, "NOTIFIER_SMTP_URL": "smtp://mail.example.kr:2525"})
    sms, email = where_messages_go(settings)
    assert "nothing leaves this machine" in sms
    assert email == "  email:   sent to the SMTP server at mail.example.kr:2525"


def test_with_twilio_set_sms_is_said_to_leave() -> None:
    twilio = {
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "TWILIO_AUTH_TOKEN": "t" * 32,
        "TWILIO_FROM": "+82416615676",
    }
    sms, email = where_messages_go(Settings.from_env({**BASE, **twilio}))
    assert sms == "  SMS:     sent through Twilio at https://api.twilio.com"
    assert "nothing leaves this machine" in email


def test_with_solapi_set_sms_is_said_to_leave_through_solapi_with_twilio_as_failover() -> None:
    env = {
        **BASE,
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "TWILIO_AUTH_TOKEN": "t" * 32,
        "TWILIO_FROM": "+82416615676",
        "SOLAPI_API_KEY": "NCSKEY",
        "SOLAPI_API_SECRET": "s" * 32,
    }
    sms, _ = where_messages_go(Settings.from_env(env))
    assert sms == (
        "  SMS:     sent through SOLAPI at https://api.solapi.com,"
        " else Twilio while SOLAPI is out of rotation"
    )


def test_the_banner_points_at_the_outbox_only_where_it_is_shown() -> None:
    url = "http://127.0.0.1:8000"
    smtp = {"NOTIFIER_SMTP_URL": "smtp://mail.example.org"}
    twilio = {"TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": "t", "TWILIO_FROM": "+82416615676"}
    assert where_the_outbox_is(Settings.from_env(BASE), url) == f"{url}/outbox"
    assert "NOTIFIER_PUBLIC_OUTBOX" in where_the_outbox_is(Settings.from_env({**BASE, **smtp}), url)
    assert where_the_outbox_is(Settings.from_env({**BASE, **smtp, **twilio}), url).startswith("none")
