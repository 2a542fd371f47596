"""Sending through the real twilio library and a real SMTP server, and every error path."""

from __future__ import annotations

import email.policy
from email import message_from_bytes

import pytest
from sqlalchemy import func, select

from notifier import bootstrap
from notifier.config import SmtpSettings
from notifier.domain.status import Status
from notifier.services.delivery import deliver_many
from notifier.services.messages import deliver
from notifier.storage import messages as repo
from notifier.storage.tables import messages
from tests.factories import email_body, message_body
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


def test_network_errors_are_retried(ctx, post, twilio) -> None:
    message_id = post(message_body())
    twilio.drop_next()
    assert deliver(ctx, message_id).status == "scheduled"
    assert status_of(ctx, message_id)["error_code"] == "network"


def test_retries_stop_after_the_bound_and_the_message_fails(ctx, post, twilio) -> None:
    from notifier.services.scheduler import dispatch_due

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
        from notifier.services.setup import load_shipped_data

        load_shipped_data(ctx)
        from notifier.schemas import MessageIn
        from notifier.services.messages import accept_message

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
        from notifier.schemas import MessageIn
        from notifier.services.messages import accept_message
        from notifier.services.setup import load_shipped_data

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


class FrozenClock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now

    def advance(self, seconds: float) -> None:
        from datetime import timedelta

        self.now += timedelta(seconds=seconds)
