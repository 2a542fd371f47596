"""Sending through the real twilio library and a real SMTP server, and every error path."""

from __future__ import annotations

import email.policy
from dataclasses import replace
from datetime import timedelta
from email import message_from_bytes

import pytest
from sqlalchemy import func, select

from notifier import bootstrap
from notifier.config import SmtpSettings
from notifier.domain.message_status import Status
from notifier.messages import repository as repo
from notifier.messages.sending import deliver, deliver_many
from notifier.messages.tables import messages
from tests.factories import FrozenClock, email_body, message_body
from tests.fakes.smtp_server import FakeSmtp
from tests.fakes.twilio_server import FakeTwilio


@pytest.fixture
def post(client, auth):
    def post(body):
        response = client.post("/v1/messages", json=body, headers=auth)
        assert response.status_code == 202, response.json
        return response.json["id"]

    return post


def status_of(ctx, message_id):
    with ctx.engine.connect() as conn:
        return repo.get(conn, message_id)


def test_sms_goes_through_the_twilio_library_with_a_status_callback(ctx, post, twilio: FakeTwilio) -> None:
    message_id = post(message_body())
    assert deliver(ctx, message_id).status == "sent"
    [sent] = twilio.messages
    assert sent.to == "+821012345678"
    assert sent.from_ == "+82416615676"
    assert "서산고용복지+센터" in sent.body and "041-661-5676" in sent.body
    assert sent.status_callback == f"{ctx.settings.public_url}/webhooks/twilio/status?message_id={message_id}"
    row = status_of(ctx, message_id)
    assert row["status"] == "sent"
    assert row["provider_message_id"] == sent.sid
    assert row["sandboxed"] is False


def test_a_redelivered_task_never_sends_twice(ctx, post, twilio: FakeTwilio) -> None:
    message_id = post(message_body())
    assert deliver(ctx, message_id).status == "sent"
    assert deliver(ctx, message_id).status == "skipped"
    assert len(twilio.requests) == 1


@pytest.mark.parametrize(("status", "code"), [(503, None), (500, 20500), (429, 20429)])
def test_temporary_provider_errors_are_retried_with_backoff(ctx, post, twilio, status, code) -> None:
    message_id = post(message_body())
    twilio.fail_next(status, code)
    outcome = deliver(ctx, message_id)
    assert outcome.status == "scheduled"
    assert outcome.retry_in is not None and 0 < outcome.retry_in <= ctx.settings.retry_base_seconds
    row = status_of(ctx, message_id)
    assert row["status"] == "scheduled"
    assert row["attempts"] == 1
    assert row["send_at"] > row["claimed_at"]


def test_a_provider_that_cannot_be_reached_is_retried(settings, clean_db) -> None:
    from notifier.config import TwilioSettings

    unreachable = replace(settings.twilio, base_url="http://127.0.0.1:9")
    ctx = with_shipped(bootstrap.build(settings.with_overrides(twilio=unreachable), engine=clean_db))
    message_id = accept(ctx, message_body())
    assert deliver(ctx, message_id).status == "scheduled"
    assert status_of(ctx, message_id)["error_code"] == "network"
    assert isinstance(unreachable, TwilioSettings)


def test_a_dropped_answer_is_not_retried_blindly_recovery_asks_twilio(ctx, post, twilio) -> None:
    """The request reached Twilio but the answer never came: resending could double it."""
    from notifier.messages.scheduler import recover_stuck

    message_id = post(message_body())
    twilio.drop_next()  # the fake drops the request without recording it
    assert deliver(ctx, message_id).status == "sending"
    assert status_of(ctx, message_id)["status"] == "sending"
    ctx.clock = FrozenClock(ctx.clock() + ctx.settings.stuck_after + timedelta(seconds=1))
    assert recover_stuck(ctx) == (0, 1)  # Twilio says it never took it: queued again, once
    assert deliver(ctx, message_id).status == "sent"
    assert len(twilio.messages) == 1


def test_a_timed_out_request_twilio_did_take_is_recorded_as_sent_not_resent(
    settings, clean_db, twilio
) -> None:
    from notifier.messages.scheduler import recover_stuck

    ctx = with_shipped(bootstrap.build(settings.with_overrides(provider_timeout=0.3), engine=clean_db))
    message_id = accept(ctx, message_body())
    twilio.latency = 1.0  # Twilio takes it, but answers after our timeout
    assert deliver(ctx, message_id).status == "sending"
    twilio.latency = 0.0
    [taken] = twilio.wait_for_messages(1)
    ctx.clock = FrozenClock(ctx.clock() + ctx.settings.stuck_after + timedelta(seconds=1))
    assert recover_stuck(ctx) == (1, 0)
    row = status_of(ctx, message_id)
    assert (row["status"], row["provider_message_id"]) == ("sent", taken.sid)
    assert len(twilio.requests) == 1


def test_a_late_result_from_a_worker_whose_claim_was_taken_over_is_ignored(ctx, post, twilio) -> None:
    from notifier.channels.base import Accepted
    from notifier.messages.claims import claim
    from notifier.messages.outcomes import Outcomes
    from notifier.messages.scheduler import recover_stuck

    message_id = post(message_body())
    first = claim(ctx, message_id)  # worker A, then silence
    ctx.clock = FrozenClock(ctx.clock() + ctx.settings.stuck_after + timedelta(seconds=1))
    recover_stuck(ctx)
    assert deliver(ctx, message_id).status == "sent"  # worker B
    late = Outcomes(ctx)  # worker A wakes up and records what Twilio said
    late.accepted(first, Accepted("twilio", "SM-late"))
    late.record()
    assert status_of(ctx, message_id)["provider_message_id"] == twilio.messages[0].sid


def test_an_email_whose_answer_was_lost_is_left_to_recovery(ctx, post, smtp) -> None:
    message_id = post(email_body())
    smtp.drop_next()  # the connection closes after the data, before the server's answer
    assert deliver(ctx, message_id).status == "sending"
    assert status_of(ctx, message_id)["status"] == "sending"


def test_a_message_recovered_past_its_attempt_bound_fails_instead_of_looping(ctx, post, twilio) -> None:
    from sqlalchemy import update

    message_id = post(message_body())
    with ctx.engine.begin() as conn:
        conn.execute(
            update(messages).where(messages.c.id == message_id).values(attempts=ctx.settings.max_attempts)
        )
    assert deliver(ctx, message_id).status == "skipped"
    row = status_of(ctx, message_id)
    assert (row["status"], row["error_code"]) == ("failed", "attempts_exhausted")
    assert twilio.requests == []


def test_client_data_cannot_smuggle_email_headers(client, auth, ctx) -> None:
    body = email_body()
    body["data"]["_headers"] = {"Bcc": "everyone@example.com"}
    response = client.post("/v1/messages", json=body, headers=auth)
    assert response.status_code == 422
    assert response.json["errors"][0]["pointer"] == "/data"


def accept(ctx, body):
    from notifier.messages.accept import accept_message
    from notifier.schemas import MessageIn

    return accept_message(ctx, "owner", MessageIn.model_validate(body), body, None)[1]["id"]


def with_shipped(ctx):
    from notifier.bootstrap import load_shipped_data, wire

    load_shipped_data(ctx)
    return wire(ctx)


def test_retries_stop_after_the_bound_and_the_message_fails(ctx, post, twilio) -> None:
    from notifier.messages.scheduler import dispatch_due

    message_id = post(message_body())
    twilio.fail_next(503, times=ctx.settings.max_attempts)
    clock = FrozenClock(ctx.clock())
    ctx.clock = clock
    for _ in range(ctx.settings.max_attempts):
        deliver(ctx, message_id)
        clock.advance(ctx.settings.retry_max_seconds)
        dispatch_due(ctx)
    row = status_of(ctx, message_id)
    assert row["status"] == "failed"
    assert row["attempts"] == ctx.settings.max_attempts
    assert row["error_code"] == "20503"
    assert len(twilio.requests) == ctx.settings.max_attempts


@pytest.mark.parametrize(
    ("code", "reason"),
    [(21211, "invalid"), (21610, "unsubscribed"), (21614, "not a mobile")],
)
def test_permanent_twilio_errors_fail_at_once_with_code_and_reason(ctx, post, twilio, code, reason) -> None:
    twilio.reject_number("+821012345678", 400, code)
    message_id = post(message_body())
    assert deliver(ctx, message_id).status == "failed"
    row = status_of(ctx, message_id)
    assert row["error_code"] == str(code)
    assert reason in row["error_reason"]
    assert row["attempts"] == 1


def test_email_is_multipart_with_korean_subject_and_display_names(ctx, post, smtp: FakeSmtp) -> None:
    message_id = post(email_body())
    assert deliver(ctx, message_id).status == "sent"
    [mail] = smtp.wait_for_messages(1)
    parsed = mail.message
    assert mail.rcpt_tos == ["hong@example.com"]
    assert parsed.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in parsed.iter_parts()] == ["text/plain", "text/html"]
    assert "서산고용복지+센터" in str(parsed["From"])
    assert parsed["From"].addresses[0].addr_spec == "noreply@seosan.example.kr"
    assert parsed["To"].addresses[0].display_name == "홍길동"
    assert "예약" in str(parsed["Subject"])
    assert parsed["Message-ID"] == f"<{message_id}@seosan.example.kr>"
    assert parsed["Date"] is not None
    raw_headers = mail.data.split(b"\r\n\r\n", 1)[0]
    assert b"=?utf-8?" in raw_headers.lower()  # RFC 2047, not raw 8-bit headers
    assert "홍길동" in parsed.get_body(("plain",)).get_content()


def test_smtp_permanent_refusal_fails_temporary_is_retried(ctx, post, smtp) -> None:
    smtp.refuse_recipient("hong@example.com", 550, "5.1.1 User unknown")
    refused = post(email_body())
    assert deliver(ctx, refused).status == "failed"
    assert status_of(ctx, refused)["error_code"] == "smtp_550"
    smtp.reset()
    smtp.fail_next(451, stage="rcpt")
    later = post(email_body())
    assert deliver(ctx, later).status == "scheduled"
    assert status_of(ctx, later)["error_code"] == "smtp_451"


@pytest.mark.parametrize("tls", ["starttls", "implicit"])
def test_smtp_with_tls_and_login(settings, clean_db, tls) -> None:
    with FakeSmtp(tls=tls, auth=("mailer", "s3cret:pass")) as server:
        ctx = bootstrap.build(
            settings.with_overrides(smtp=SmtpSettings.parse(server.url)),
            engine=clean_db,
            smtp_ssl_context=server.ssl_context_for_clients(),
        )
        from notifier.bootstrap import load_shipped_data

        load_shipped_data(ctx)
        from notifier.messages.accept import accept_message
        from notifier.schemas import MessageIn

        body = email_body()
        _, response = accept_message(ctx, "owner", MessageIn.model_validate(body), body, None)
        assert deliver(ctx, response["id"]).status == "sent"
        assert len(server.wait_for_messages(1)) == 1


def test_smtp_wrong_password_is_retried_not_lost(settings, clean_db) -> None:
    with FakeSmtp(tls="starttls", auth=("mailer", "right")) as server:
        url = server.url.replace("right", "wrong")
        ctx = bootstrap.build(
            settings.with_overrides(smtp=SmtpSettings.parse(url)),
            engine=clean_db,
            smtp_ssl_context=server.ssl_context_for_clients(),
        )
        from notifier.bootstrap import load_shipped_data
        from notifier.messages.accept import accept_message
        from notifier.schemas import MessageIn

        load_shipped_data(ctx)
        body = email_body()
        _, response = accept_message(ctx, "owner", MessageIn.model_validate(body), body, None)
        assert deliver(ctx, response["id"]).status == "scheduled"
        assert status_of(ctx, response["id"])["error_code"] == "smtp_535"


def test_a_batch_of_email_reuses_one_connection(ctx, post, smtp) -> None:
    ids = [post(email_body(reference=f"r{i}")) for i in range(5)]
    before = smtp.connections
    assert deliver_many(ctx, ids) == 5
    assert smtp.connections - before == 1
    assert len(smtp.wait_for_messages(5)) == 5
    assert deliver_many(ctx, ids) == 0  # a redelivered chunk sends nothing


def test_an_expired_message_is_not_sent_late(ctx, post, twilio) -> None:
    message_id = post(message_body())
    ctx.clock = FrozenClock(ctx.clock() + ctx.settings.message_validity * 2)
    assert deliver(ctx, message_id).status == "skipped"
    assert status_of(ctx, message_id)["status"] == Status.EXPIRED.value
    assert twilio.requests == []


def test_stored_rows_match_what_the_api_said(ctx, post) -> None:
    post(message_body())
    with ctx.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(messages)).scalar() == 1


def test_email_message_parses_back_with_the_default_policy(ctx, post, smtp) -> None:
    message_id = post(email_body())
    deliver(ctx, message_id)
    [mail] = smtp.wait_for_messages(1)
    again = message_from_bytes(mail.data, policy=email.policy.default)
    assert again.get_body(("html",)).get_content().lstrip().lower().startswith("<!doctype html")


def test_a_provider_answer_too_long_to_store_does_not_break_the_batch_write(ctx, post) -> None:
    """A provider id over 100 characters or an error code over 50 would fail the outcome write."""
    from notifier.channels.base import Accepted
    from notifier.errors import ProviderError
    from notifier.messages.claims import claim
    from notifier.messages.outcomes import Outcomes

    sent_id, failed_id = post(message_body()), post(message_body())
    sent, failed = claim(ctx, sent_id), claim(ctx, failed_id)
    outcomes = Outcomes(ctx)
    outcomes.accepted(sent, Accepted("twilio", "SM" + "x" * 150))
    outcomes.failed(
        failed, ProviderError(retryable=False, code="E" * 80, message="refused", provider="twilio")
    )
    outcomes.record()
    sent_row, failed_row = status_of(ctx, sent_id), status_of(ctx, failed_id)
    assert (sent_row["status"], sent_row["provider_message_id"]) == ("sent", None)
    assert (failed_row["status"], failed_row["error_code"]) == ("failed", "E" * 50)
