"""Twilio status callbacks: signed, applied forward only, and harmless when forged."""

from __future__ import annotations

from twilio.request_validator import RequestValidator

from notifier.messages import repository as repo
from notifier.messages.sending import deliver
from tests.factories import message_body


def sent_message(client, auth, ctx):
    message_id = client.post("/v1/messages", json=message_body(), headers=auth).json["id"]
    deliver(ctx, message_id)
    with ctx.engine.connect() as conn:
        return repo.get(conn, message_id)


def callback(client, ctx, row, status, *, token=None, error_code=None, path=None):
    path = path or f"/webhooks/twilio/status?message_id={row['id']}"
    params = {
        "MessageSid": row["provider_message_id"],
        "SmsSid": row["provider_message_id"],
        "MessageStatus": status,
        "AccountSid": ctx.settings.twilio.account_sid,
        "To": row["to_phone"],
    }
    if error_code:
        params["ErrorCode"] = error_code
    signature = RequestValidator(token or ctx.settings.twilio.auth_token).compute_signature(
        ctx.settings.public_url + path, params
    )
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature})


def current(ctx, message_id):
    with ctx.engine.connect() as conn:
        return repo.get(conn, message_id)


def test_delivered_callback_moves_the_message_forward(client, auth, ctx) -> None:
    row = sent_message(client, auth, ctx)
    assert callback(client, ctx, row, "delivered").status_code == 204
    assert current(ctx, row["id"])["status"] == "delivered"
    history = client.get(f"/v1/messages/{row['id']}", headers=auth).json["history"]
    assert [h["status"] for h in history] == ["queued", "sending", "sent", "delivered"]


def test_a_late_sent_callback_after_delivered_is_ignored(client, auth, ctx) -> None:
    row = sent_message(client, auth, ctx)
    callback(client, ctx, row, "delivered")
    assert callback(client, ctx, row, "sent").status_code == 204
    assert current(ctx, row["id"])["status"] == "delivered"


def test_undelivered_callback_fails_the_message_with_the_carrier_code(client, auth, ctx) -> None:
    row = sent_message(client, auth, ctx)
    callback(client, ctx, row, "undelivered", error_code="30003")
    failed = client.get(f"/v1/messages/{row['id']}", headers=auth).json
    assert failed["status"] == "failed"
    assert failed["error"] == {"code": "30003", "reason": "unreachable destination handset"}


def test_callbacks_found_by_provider_id_without_our_query_parameter(client, auth, ctx) -> None:
    row = sent_message(client, auth, ctx)
    assert callback(client, ctx, row, "delivered", path="/webhooks/twilio/status").status_code == 204
    assert current(ctx, row["id"])["status"] == "delivered"


def test_bad_or_missing_signature_is_403_and_changes_nothing(client, auth, ctx) -> None:
    row = sent_message(client, auth, ctx)
    forged = callback(client, ctx, row, "delivered", token="not-the-token")
    assert forged.status_code == 403
    assert forged.mimetype == "application/problem+json"
    unsigned = client.post(
        f"/webhooks/twilio/status?message_id={row['id']}", data={"MessageStatus": "delivered"}
    )
    assert unsigned.status_code == 403
    assert current(ctx, row["id"])["status"] == "sent"


def test_a_signature_for_another_message_does_not_carry_over(client, auth, ctx) -> None:
    row = sent_message(client, auth, ctx)
    other = sent_message(client, auth, ctx)
    params = {"MessageSid": row["provider_message_id"], "MessageStatus": "failed"}
    url = f"{ctx.settings.public_url}/webhooks/twilio/status?message_id={row['id']}"
    signature = RequestValidator(ctx.settings.twilio.auth_token).compute_signature(url, params)
    response = client.post(
        f"/webhooks/twilio/status?message_id={other['id']}",
        data=params,
        headers={"X-Twilio-Signature": signature},
    )
    assert response.status_code == 403
    assert current(ctx, other["id"])["status"] == "sent"


def test_callback_for_an_unknown_message_changes_nothing(client, auth, ctx) -> None:
    row = dict(sent_message(client, auth, ctx))
    row["provider_message_id"] = "SM" + "0" * 32
    assert callback(client, ctx, row, "failed", path="/webhooks/twilio/status").status_code == 204
    assert current(ctx, row["id"])["status"] == "sent"
