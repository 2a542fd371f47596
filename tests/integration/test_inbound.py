"""POST /webhooks/twilio/inbound: 수신거부, 거부 or STOP opts the sender out of everything."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from notifier.consent.tables import opt_outs
from notifier.messages.sending import deliver
from notifier.messages.tables import messages
from tests.integration.test_opt_outs import PHONE, count, message, pending_message

# What an opt-out of scope 'all' stops, as the person reads it (not every message).
ALL_LABEL = "광고와 센터의 단체 안내 메시지 전체 (본인 예약 안내 제외)"

PATH = "/webhooks/twilio/inbound"
CENTRE_NUMBER = "+82416615676"  # 서산고용복지+센터's SMS sender


def inbound(client, ctx, text: str, *, sender: str = PHONE, token: str | None = None):
    params = {
        "MessageSid": "SM" + "1" * 32,
        "AccountSid": ctx.settings.twilio.account_sid,
        "From": sender,
        "To": CENTRE_NUMBER,
        "Body": text,
        "NumMedia": "0",
    }
    signature = RequestValidator(token or ctx.settings.twilio.auth_token).compute_signature(
        ctx.settings.public_url + PATH, params
    )
    return client.post(PATH, data=params, headers={"X-Twilio-Signature": signature})


@pytest.mark.parametrize("text", ["수신거부", " 거부 ", "STOP", "stop", "Stop\n", "수신 거부", "ＳＴＯＰ"])
def test_a_stop_keyword_opts_the_sender_out_of_everything(client, ctx, text) -> None:
    campaign = pending_message(ctx, category="informational")
    reminder = pending_message(ctx, category="informational", campaign=False, purpose="reminder")
    response = inbound(client, ctx, text)
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    assert response.get_data(as_text=True).endswith("<Response/>")
    with ctx.engine.connect() as conn:
        row = conn.execute(select(opt_outs)).mappings().one()
    assert (row["scope"], row["source"], row["channel"]) == ("all", "sms_reply", "sms")
    assert message(ctx, campaign)["status"] == "suppressed"
    assert message(ctx, reminder)["status"] == "queued"


@pytest.mark.parametrize("text", ["네 참석합니다", "STOP please", "거부하지 않습니다", "", "START"])
def test_other_replies_change_nothing(client, ctx, text) -> None:
    pending = pending_message(ctx)
    response = inbound(client, ctx, text)
    assert response.status_code == 200
    assert response.get_data(as_text=True).endswith("<Response/>")
    assert count(ctx) == 0
    assert message(ctx, pending)["status"] == "queued"


def test_a_bad_or_missing_signature_is_403_and_changes_nothing(client, ctx) -> None:
    pending = pending_message(ctx)
    forged = inbound(client, ctx, "수신거부", token="not-the-token")
    assert forged.status_code == 403
    assert forged.mimetype == "application/problem+json"
    unsigned = client.post(PATH, data={"From": PHONE, "To": CENTRE_NUMBER, "Body": "STOP"})
    assert unsigned.status_code == 403
    assert count(ctx) == 0
    assert message(ctx, pending)["status"] == "queued"


def test_a_stop_from_a_number_that_is_no_phone_number_is_ignored(client, ctx) -> None:
    assert inbound(client, ctx, "STOP", sender="ALPHA-ID").status_code == 200
    assert count(ctx) == 0


def test_the_reply_is_confirmed_by_sms_from_the_center_that_was_texted(client, ctx, twilio) -> None:
    inbound(client, ctx, "수신거부")
    with ctx.engine.connect() as conn:
        row = (
            conn.execute(select(messages).where(messages.c.template_key == "opt_out_confirmation"))
            .mappings()
            .one()
        )
    assert row["center"]["code"] == "seosan" and row["sender"] == CENTRE_NUMBER
    assert deliver(ctx, row["id"]).status == "sent"
    sent = twilio.wait_for_messages(1)[0]
    assert sent.to == PHONE
    assert "서산고용복지+센터" in sent.body and ALL_LABEL in sent.body


def test_twilio_posting_over_http_opts_the_sender_out(live_api, ctx, twilio) -> None:
    pending = pending_message(ctx)
    assert twilio.send_inbound(f"{live_api}{PATH}", PHONE, CENTRE_NUMBER, "거부") == 200
    assert message(ctx, pending)["status"] == "suppressed"
    assert twilio.send_inbound(f"{live_api}{PATH}", PHONE, CENTRE_NUMBER, "STOP", signature="bad") == 403
    assert count(ctx) == 1
