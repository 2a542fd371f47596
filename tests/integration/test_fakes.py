"""The fakes answer the project's real clients (twilio, smtplib) as the real services do."""

from __future__ import annotations

import base64
import http.client
import queue
import signal
import smtplib
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.rest.api.v2010.account.message import MessageInstance

from tests.fakes.smtp_server import FakeSmtp
from tests.fakes.twilio_server import FakeTwilio

REPO_ROOT = Path(__file__).resolve().parents[2]
MOBILE = "+821012345678"
SENDER = "+82416615676"
STATUS_CALLBACK = "http://127.0.0.1:5000/webhooks/twilio/status"


# -- Twilio helpers ----------------------------------------------------------------------


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as fake:
        yield fake


def client_for(fake: FakeTwilio, auth_token: str | None = None) -> Client:
    client = Client(fake.account_sid, auth_token or fake.auth_token)
    client.api.base_url = fake.base_url
    return client


@pytest.fixture
def twilio_client(fake_twilio: FakeTwilio) -> Client:
    """The real twilio client, pointed at the fake (the conftest's ``client`` is Flask's)."""
    return client_for(fake_twilio)


def messages_path(fake: FakeTwilio) -> str:
    return f"/2010-04-01/Accounts/{fake.account_sid}/Messages"


def send_sms(client: Client, to: str = MOBILE, body: str = "안녕하세요", **kwargs: Any) -> MessageInstance:
    kwargs.setdefault("from_", SENDER)
    kwargs.setdefault("status_callback", STATUS_CALLBACK)
    return client.messages.create(to=to, body=body, **kwargs)


class PinnedClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass(frozen=True)
class Webhook:
    url: str
    params: dict[str, str]
    signature: str
    valid: bool


class WebhookReceiver:
    """Stands in for the notifier's webhook views: checks the signature, answers 204 or 403."""

    def __init__(self, auth_token: str) -> None:
        self.received: queue.Queue[Webhook] = queue.Queue()
        validator = RequestValidator(auth_token)
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                params = {k: v[-1] for k, v in parse_qs(body).items()}
                url = f"http://{self.headers['Host']}{self.path}"
                signature = self.headers.get("X-Twilio-Signature", "")
                valid = validator.validate(url, params, signature)
                received.put(Webhook(url, params, signature, valid))
                self.send_response(204 if valid else 403)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@pytest.fixture
def receiver(fake_twilio: FakeTwilio) -> Iterator[WebhookReceiver]:
    with WebhookReceiver(fake_twilio.auth_token) as receiver:
        yield receiver


# -- Twilio: the happy path --------------------------------------------------------------


def test_real_client_creates_a_message_the_fake_records(
    fake_twilio: FakeTwilio, twilio_client: Client
) -> None:
    before = datetime.now(UTC).replace(microsecond=0)

    message = send_sms(twilio_client)

    assert message.sid.startswith("SM")
    assert len(message.sid) == 34
    assert (message.status, message.to, message.from_) == ("queued", MOBILE, SENDER)
    assert message.body == "안녕하세요"
    assert message.num_segments == "1"
    assert message.account_sid == fake_twilio.account_sid
    assert message.api_version == "2010-04-01"
    assert message.uri == f"{messages_path(fake_twilio)}/{message.sid}.json"
    assert (message.price, message.error_code, message.date_sent) == (None, None, None)
    assert message.date_created is not None
    assert message.date_created >= before
    [recorded] = fake_twilio.wait_for_messages(1)
    assert (recorded.sid, recorded.to, recorded.from_, recorded.body) == (
        message.sid,
        MOBILE,
        SENDER,
        "안녕하세요",
    )
    assert recorded.status_callback == STATUS_CALLBACK
    assert fake_twilio.requests[0].params["StatusCallback"] == STATUS_CALLBACK


def test_fetch_returns_the_created_message(twilio_client: Client) -> None:
    created = send_sms(twilio_client)

    fetched = twilio_client.messages(created.sid).fetch()

    assert (fetched.sid, fetched.body, fetched.status) == (created.sid, created.body, "queued")
    assert fetched.date_sent == created.date_created


def test_fetching_an_unknown_sid_raises_404(twilio_client: Client) -> None:
    with pytest.raises(TwilioRestException) as raised:
        twilio_client.messages("SM" + "0" * 32).fetch()

    assert (raised.value.status, raised.value.code) == (404, 20404)


def test_list_filters_by_recipient_newest_first_across_pages(twilio_client: Client) -> None:
    for n in range(3):
        send_sms(twilio_client, body=f"reminder {n}")
    send_sms(twilio_client, to="+821099998888", body="someone else")

    listed = twilio_client.messages.list(to=MOBILE, page_size=2)

    assert [m.body for m in listed] == ["reminder 2", "reminder 1", "reminder 0"]


def test_list_filters_by_sender(twilio_client: Client) -> None:
    send_sms(twilio_client, body="from centre")
    send_sms(twilio_client, from_="+82212345678", body="from head office")

    assert [m.body for m in twilio_client.messages.list(from_="+82212345678")] == ["from head office"]


def test_date_sent_filters_work_per_gmt_day_like_twilio() -> None:
    clock = PinnedClock(datetime(2025, 3, 1, 9, 0, tzinfo=UTC))
    with FakeTwilio(clock=clock) as fake:
        client = client_for(fake)
        for day in (1, 2, 3):
            clock.now = datetime(2025, 3, day, 9, 0, tzinfo=UTC)
            send_sms(client, body=f"day {day}")

        after = client.messages.list(to=MOBILE, date_sent_after=datetime(2025, 3, 2, 23, 0))
        before = client.messages.list(date_sent_before=datetime(2025, 3, 2, 0, 0))
        on = client.messages.list(date_sent=datetime(2025, 3, 2, 12, 0))

    # The time of day is ignored: Twilio documents these filters per day.
    assert [m.body for m in after] == ["day 3", "day 2"]
    assert [m.body for m in before] == ["day 2", "day 1"]
    assert [m.body for m in on] == ["day 2"]


@pytest.mark.parametrize(
    ("body", "segments"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("{" * 80, 1),  # extension characters cost two septets
        ("{" * 81, 2),
        ("안" * 70, 1),
        ("안" * 71, 2),
        ("안" * 134, 2),
        ("안" * 135, 3),
    ],
)
def test_num_segments_follow_gsm7_and_ucs2_limits(twilio_client: Client, body: str, segments: int) -> None:
    assert send_sms(twilio_client, body=body).num_segments == str(segments)


def test_messaging_service_without_sender_is_accepted(twilio_client: Client) -> None:
    message = twilio_client.messages.create(to=MOBILE, body="hi", messaging_service_sid="MG" + "1" * 32)

    assert (message.status, message.from_) == ("accepted", None)


# -- Twilio: errors ----------------------------------------------------------------------


def test_wrong_credentials_raise_401_with_code_20003(fake_twilio: FakeTwilio) -> None:
    client = client_for(fake_twilio, auth_token="0" * 32)

    with pytest.raises(TwilioRestException) as raised:
        send_sms(client)

    assert (raised.value.status, raised.value.code) == (401, 20003)
    assert fake_twilio.messages == []


@pytest.mark.parametrize(
    ("to", "body", "code"),
    [
        ("", "hello", 21604),
        (MOBILE, "", 21602),
        (MOBILE, "x" * 1601, 21617),
        ("010-1234-5678", "hello", 21211),
    ],
)
def test_invalid_create_fails_with_twilio_code(
    fake_twilio: FakeTwilio, twilio_client: Client, to: str, body: str, code: int
) -> None:
    with pytest.raises(TwilioRestException) as raised:
        send_sms(twilio_client, to=to, body=body)

    assert (raised.value.status, raised.value.code) == (400, code)
    assert fake_twilio.messages == []


def test_body_of_exactly_1600_characters_is_accepted(twilio_client: Client) -> None:
    assert send_sms(twilio_client, body="x" * 1600).status == "queued"


@pytest.mark.parametrize(
    ("status", "code", "expected_code"),
    [
        (503, None, 20503),
        (500, None, 20500),
        (429, 20429, 20429),
        (400, 21211, 21211),
        (400, 21610, 21610),
        (400, 21614, 21614),
    ],
)
def test_fail_next_raises_rest_exception_with_status_and_code(
    fake_twilio: FakeTwilio, twilio_client: Client, status: int, code: int | None, expected_code: int
) -> None:
    fake_twilio.fail_next(status, code)

    with pytest.raises(TwilioRestException) as raised:
        send_sms(twilio_client)

    assert (raised.value.status, raised.value.code) == (status, expected_code)
    assert "twilio.com/docs/errors" not in raised.value.msg  # the message, not the link
    assert send_sms(twilio_client).status == "queued"  # only the next one failed
    assert len(fake_twilio.messages) == 1


def test_fail_next_times_fails_that_many_creates(fake_twilio: FakeTwilio, twilio_client: Client) -> None:
    fake_twilio.fail_next(503, times=2)

    for _ in range(2):
        with pytest.raises(TwilioRestException):
            send_sms(twilio_client)
    send_sms(twilio_client)

    assert len(fake_twilio.requests) == 3
    assert len(fake_twilio.messages) == 1


def test_rejected_number_always_fails_and_others_pass(fake_twilio: FakeTwilio, twilio_client: Client) -> None:
    fake_twilio.reject_number("+821055550000", code=21610)

    for _ in range(2):
        with pytest.raises(TwilioRestException) as raised:
            send_sms(twilio_client, to="+821055550000")
        assert (raised.value.status, raised.value.code) == (400, 21610)
    send_sms(twilio_client)

    assert [m.to for m in fake_twilio.messages] == [MOBILE]


def test_dropped_create_raises_connection_error_and_records_nothing(
    fake_twilio: FakeTwilio, twilio_client: Client
) -> None:
    fake_twilio.drop_next()

    with pytest.raises(requests.ConnectionError):
        send_sms(twilio_client)

    assert fake_twilio.messages == []
    assert len(fake_twilio.requests) == 1
    send_sms(twilio_client)
    assert len(fake_twilio.messages) == 1


# -- Twilio: hold and release ------------------------------------------------------------


def test_held_create_is_answered_and_recorded_on_release(
    fake_twilio: FakeTwilio, twilio_client: Client
) -> None:
    fake_twilio.hold()
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(send_sms, twilio_client)
        fake_twilio.wait_for_held(1)
        assert fake_twilio.messages == []

        assert fake_twilio.release(record=True) == 1
        message = pending.result(timeout=5)

    assert [m.sid for m in fake_twilio.messages] == [message.sid]


def test_held_create_released_without_record_is_dropped(
    fake_twilio: FakeTwilio, twilio_client: Client
) -> None:
    fake_twilio.hold()
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(send_sms, twilio_client)
        fake_twilio.wait_for_held(1)
        fake_twilio.release(record=False)

        with pytest.raises(requests.ConnectionError):
            pending.result(timeout=5)

    assert fake_twilio.messages == []


def test_held_message_is_recorded_although_the_client_hung_up(fake_twilio: FakeTwilio) -> None:
    fake_twilio.hold()
    credentials = f"{fake_twilio.account_sid}:{fake_twilio.auth_token}".encode()
    connection = http.client.HTTPConnection(fake_twilio.base_url.removeprefix("http://"))
    connection.request(
        "POST",
        f"{messages_path(fake_twilio)}.json",
        urlencode({"To": MOBILE, "From": SENDER, "Body": "in flight"}),
        {
            "Authorization": "Basic " + base64.b64encode(credentials).decode(),
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    fake_twilio.wait_for_held(1)

    connection.close()  # the worker process dies mid-call
    fake_twilio.release(record=True)

    assert [m.body for m in fake_twilio.wait_for_messages(1)] == ["in flight"]


def test_stop_drops_held_creates_instead_of_hanging() -> None:
    fake = FakeTwilio().start()
    client = client_for(fake)
    fake.hold()
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(send_sms, client)
        fake.wait_for_held(1)
        fake.stop()

        with pytest.raises(requests.ConnectionError):
            pending.result(timeout=5)


def test_wait_for_held_times_out_with_a_clear_error(fake_twilio: FakeTwilio) -> None:
    with pytest.raises(TimeoutError, match="0 of 1 creates held"):
        fake_twilio.wait_for_held(1, timeout=0.05)


# -- Twilio: latency and load ------------------------------------------------------------


def test_latency_delays_every_create(fake_twilio: FakeTwilio, twilio_client: Client) -> None:
    fake_twilio.latency = 0.05
    started = time.monotonic()

    send_sms(twilio_client)

    assert time.monotonic() - started >= 0.05


def test_hundred_creates_are_served_concurrently(fake_twilio: FakeTwilio) -> None:
    def send_one(n: int) -> str:
        return str(send_sms(client_for(fake_twilio), body=f"n{n}").sid)

    fake_twilio.hold()
    with ThreadPoolExecutor(max_workers=100) as pool:
        pending = pool.map(send_one, range(100))
        fake_twilio.wait_for_held(100)  # all in flight at once, none queued behind another
        fake_twilio.release()
        sids = list(pending)

    assert len(set(sids)) == 100
    assert len(fake_twilio.messages) == 100


# -- Twilio: webhooks --------------------------------------------------------------------


def test_status_callback_is_signed_so_request_validator_accepts_it(
    fake_twilio: FakeTwilio, twilio_client: Client, receiver: WebhookReceiver
) -> None:
    callback_url = receiver.url("/webhooks/twilio/status?tenant=busan")
    message = send_sms(twilio_client, status_callback=callback_url)

    answered = fake_twilio.send_status_callback(message.sid, "delivered")

    hook = receiver.received.get(timeout=1)
    assert answered == 204
    assert hook.valid
    assert hook.url == callback_url
    assert hook.params == {
        "MessageSid": message.sid,
        "SmsSid": message.sid,
        "MessageStatus": "delivered",
        "SmsStatus": "delivered",
        "AccountSid": fake_twilio.account_sid,
        "From": SENDER,
        "To": MOBILE,
        "ApiVersion": "2010-04-01",
    }
    assert twilio_client.messages(message.sid).fetch().status == "delivered"


def test_failed_status_callback_carries_the_error_code(
    fake_twilio: FakeTwilio, twilio_client: Client, receiver: WebhookReceiver
) -> None:
    message = send_sms(twilio_client, status_callback=receiver.url("/status"))

    assert fake_twilio.send_status_callback(message.sid, "undelivered", 30007) == 204

    hook = receiver.received.get(timeout=1)
    assert hook.valid
    assert hook.params["ErrorCode"] == "30007"
    assert twilio_client.messages(message.sid).fetch().error_code == 30007


def test_status_callback_with_a_bad_signature_is_refused(
    fake_twilio: FakeTwilio, twilio_client: Client, receiver: WebhookReceiver
) -> None:
    message = send_sms(twilio_client)

    answered = fake_twilio.send_status_callback(
        message.sid, "sent", url=receiver.url("/status"), signature="forged="
    )

    assert answered == 403
    assert not receiver.received.get(timeout=1).valid


def test_inbound_message_is_signed_like_twilio(fake_twilio: FakeTwilio, receiver: WebhookReceiver) -> None:
    url = receiver.url("/webhooks/twilio/inbound")

    answered = fake_twilio.send_inbound(url, from_=MOBILE, to=SENDER, body="수신거부")

    hook = receiver.received.get(timeout=1)
    assert answered == 204
    assert hook.valid
    assert hook.params["From"] == MOBILE
    assert hook.params["To"] == SENDER
    assert hook.params["Body"] == "수신거부"
    assert hook.params["MessageSid"].startswith("SM")
    assert hook.params["NumMedia"] == "0"


# -- SMTP helpers ------------------------------------------------------------------------

USER, PASSWORD = "notifier@example.kr", "p@ss:w/rd"


def korean_mail(to: str = "jobseeker@example.kr", subject: str = "면접 일정 안내") -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = Address("부산고용센터", addr_spec="noreply@example.kr")
    message["To"] = Address("김민지", addr_spec=to)
    message.set_content("3월 5일 오전 10시에 상담이 예정되어 있습니다.")
    return message


@pytest.fixture
def fake_smtp() -> Iterator[FakeSmtp]:
    with FakeSmtp() as fake:
        yield fake


# -- SMTP: delivery over plain, STARTTLS and implicit TLS --------------------------------


def test_plain_smtp_delivers_korean_subject_and_display_name_intact(fake_smtp: FakeSmtp) -> None:
    with smtplib.SMTP(fake_smtp.host, fake_smtp.port) as smtp:
        smtp.send_message(korean_mail())

    [mail] = fake_smtp.wait_for_messages(1)
    assert mail.mail_from == "noreply@example.kr"
    assert mail.rcpt_tos == ["jobseeker@example.kr"]
    assert b"=?utf-8?" in mail.data  # encoded on the wire, decoded by the parser
    assert mail.message["Subject"] == "면접 일정 안내"
    assert mail.message["From"].addresses[0].display_name == "부산고용센터"
    assert mail.message["To"].addresses[0].display_name == "김민지"
    assert mail.message.get_content().strip() == "3월 5일 오전 10시에 상담이 예정되어 있습니다."
    assert mail.login is None


def test_starttls_with_login_delivers_mail() -> None:
    with FakeSmtp(tls="starttls", auth=(USER, PASSWORD)) as fake:
        with smtplib.SMTP(fake.host, fake.port) as smtp:
            smtp.starttls(context=fake.ssl_context_for_clients())
            smtp.login(USER, PASSWORD)
            smtp.send_message(korean_mail())

        [mail] = fake.wait_for_messages(1)
    assert mail.login == USER
    assert mail.message["Subject"] == "면접 일정 안내"


def test_auth_login_mechanism_is_accepted_as_well_as_plain() -> None:
    with FakeSmtp(tls="starttls", auth=(USER, PASSWORD)) as fake:
        with smtplib.SMTP(fake.host, fake.port) as smtp:
            smtp.starttls(context=fake.ssl_context_for_clients())
            smtp.ehlo()
            smtp.user, smtp.password = USER, PASSWORD
            code, _ = smtp.auth("LOGIN", smtp.auth_login)
            smtp.send_message(korean_mail())

        assert code == 235
        assert fake.wait_for_messages(1)[0].login == USER


def test_implicit_tls_with_the_client_context_delivers_mail() -> None:
    with FakeSmtp(tls="implicit", auth=(USER, PASSWORD)) as fake:
        context = fake.ssl_context_for_clients()
        with smtplib.SMTP_SSL(fake.host, fake.port, context=context) as smtp:
            smtp.login(USER, PASSWORD)
            smtp.send_message(korean_mail())

        assert fake.wait_for_messages(1)[0].login == USER


def test_tls_certificate_is_not_trusted_without_the_fake_ca() -> None:
    with FakeSmtp(tls="implicit") as fake, pytest.raises(ssl.SSLCertVerificationError):
        smtplib.SMTP_SSL(fake.host, fake.port, context=ssl.create_default_context())


def test_starttls_server_refuses_mail_before_starttls() -> None:
    with (
        FakeSmtp(tls="starttls") as fake,
        smtplib.SMTP(fake.host, fake.port) as smtp,
        pytest.raises(smtplib.SMTPSenderRefused) as raised,
    ):
        smtp.send_message(korean_mail())

    assert raised.value.smtp_code == 530


def test_wrong_password_is_refused_with_535() -> None:
    with (
        FakeSmtp(tls="starttls", auth=(USER, PASSWORD)) as fake,
        smtplib.SMTP(fake.host, fake.port) as smtp,
    ):
        smtp.starttls(context=fake.ssl_context_for_clients())
        with pytest.raises(smtplib.SMTPAuthenticationError) as raised:
            smtp.login(USER, "wrong")

    assert raised.value.smtp_code == 535


def test_mail_without_login_is_refused_with_530() -> None:
    with FakeSmtp(auth=(USER, PASSWORD)) as fake, smtplib.SMTP(fake.host, fake.port) as smtp:
        with pytest.raises(smtplib.SMTPSenderRefused) as raised:
            smtp.send_message(korean_mail())

        assert raised.value.smtp_code == 530
        assert fake.messages == []


def test_server_without_accounts_does_not_offer_auth(fake_smtp: FakeSmtp) -> None:
    with smtplib.SMTP(fake_smtp.host, fake_smtp.port) as smtp:
        smtp.ehlo()
        assert not smtp.has_extn("auth")


@pytest.mark.parametrize(
    ("tls", "auth", "url"),
    [
        ("none", None, "smtp://127.0.0.1:{port}"),
        (
            "starttls",
            (USER, PASSWORD),
            "smtp://notifier%40example.kr:p%40ss%3Aw%2Frd@127.0.0.1:{port}?starttls=true",
        ),
        ("implicit", ("u", "p"), "smtps://u:p@127.0.0.1:{port}"),
    ],
)
def test_url_names_tls_mode_and_percent_encodes_credentials(
    tls: Any, auth: tuple[str, str] | None, url: str
) -> None:
    with FakeSmtp(tls=tls, auth=auth) as fake:
        assert fake.url == url.format(port=fake.port)


# -- SMTP: scripted failures -------------------------------------------------------------


def test_refused_recipient_raises_recipients_refused(fake_smtp: FakeSmtp) -> None:
    fake_smtp.refuse_recipient("gone@example.kr")

    with (
        smtplib.SMTP(fake_smtp.host, fake_smtp.port) as smtp,
        pytest.raises(smtplib.SMTPRecipientsRefused) as raised,
    ):
        smtp.send_message(korean_mail(to="gone@example.kr"))

    assert raised.value.recipients == {"gone@example.kr": (550, b"5.1.1 User unknown")}
    assert fake_smtp.messages == []


def test_partly_refused_mail_reaches_the_other_recipients(fake_smtp: FakeSmtp) -> None:
    fake_smtp.refuse_recipient("gone@example.kr")

    with smtplib.SMTP(fake_smtp.host, fake_smtp.port) as smtp:
        refused = smtp.sendmail(
            "noreply@example.kr", ["gone@example.kr", "here@example.kr"], korean_mail().as_bytes()
        )

    assert refused == {"gone@example.kr": (550, b"5.1.1 User unknown")}
    assert fake_smtp.wait_for_messages(1)[0].rcpt_tos == ["here@example.kr"]


@pytest.mark.parametrize(
    ("stage", "error"),
    [
        ("mail", smtplib.SMTPSenderRefused),
        ("rcpt", smtplib.SMTPRecipientsRefused),
        ("data", smtplib.SMTPDataError),
    ],
)
@pytest.mark.parametrize("code", [451, 554])
def test_fail_next_at_each_stage_raises_the_matching_smtplib_error(
    fake_smtp: FakeSmtp, stage: Any, error: type[smtplib.SMTPException], code: int
) -> None:
    fake_smtp.fail_next(code, stage=stage)

    with smtplib.SMTP(fake_smtp.host, fake_smtp.port) as smtp:
        with pytest.raises(error) as raised:
            smtp.send_message(korean_mail())
        smtp.send_message(korean_mail())  # only the next command failed

    if isinstance(raised.value, smtplib.SMTPRecipientsRefused):
        [(reply_code, _)] = raised.value.recipients.values()
    else:
        reply_code = raised.value.smtp_code  # type: ignore[attr-defined]
    assert reply_code == code
    assert len(fake_smtp.wait_for_messages(1)) == 1


def test_dropped_connection_after_data_records_nothing(fake_smtp: FakeSmtp) -> None:
    fake_smtp.drop_next()

    with (
        smtplib.SMTP(fake_smtp.host, fake_smtp.port) as smtp,
        pytest.raises(smtplib.SMTPServerDisconnected),
    ):
        smtp.send_message(korean_mail())

    assert fake_smtp.messages == []
    with smtplib.SMTP(fake_smtp.host, fake_smtp.port) as smtp:
        smtp.send_message(korean_mail())
    assert len(fake_smtp.wait_for_messages(1)) == 1


def test_one_connection_carries_a_whole_batch(fake_smtp: FakeSmtp) -> None:
    with smtplib.SMTP(fake_smtp.host, fake_smtp.port) as smtp:
        for n in range(3):
            smtp.send_message(korean_mail(subject=f"안내 {n}"))

    mails = fake_smtp.wait_for_messages(3)
    assert fake_smtp.connections == 1
    assert {mail.connection for mail in mails} == {1}

    with smtplib.SMTP(fake_smtp.host, fake_smtp.port) as smtp:
        smtp.send_message(korean_mail())
    assert fake_smtp.connections == 2
    assert fake_smtp.wait_for_messages(4)[-1].connection == 2


def test_latency_delays_the_reply_to_data() -> None:
    with FakeSmtp(latency=0.05) as fake, smtplib.SMTP(fake.host, fake.port) as smtp:
        started = time.monotonic()
        smtp.send_message(korean_mail())
        assert time.monotonic() - started >= 0.05


def test_stop_closes_client_connections_left_open() -> None:
    fake = FakeSmtp().start()
    smtp = smtplib.SMTP(fake.host, fake.port)
    try:
        fake.stop()
        with pytest.raises(smtplib.SMTPServerDisconnected):
            smtp.noop()
    finally:
        smtp.close()


# -- standalone mode for benchmarks ------------------------------------------------------


def test_standalone_twilio_server_serves_until_sigterm() -> None:
    sid, token = "AC" + "a" * 32, "b" * 32
    command = [
        sys.executable,
        "-m",
        "tests.fakes.twilio_server",
        "--port",
        "0",
        "--latency-ms",
        "1",
        "--account-sid",
        sid,
        "--auth-token",
        token,
    ]
    with subprocess.Popen(
        command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as server:
        assert server.stdout is not None
        base_url = server.stdout.readline().strip()
        client = Client(sid, token)
        client.api.base_url = base_url
        message = send_sms(client)
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=5)

    assert base_url.startswith("http://127.0.0.1:")
    assert message.status == "queued"
    assert server.returncode == 0


def test_standalone_smtp_server_serves_until_sigterm() -> None:
    command = [sys.executable, "-m", "tests.fakes.smtp_server", "--port", "0", "--latency-ms", "1"]
    with subprocess.Popen(
        command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as server:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        port = int(url.rsplit(":", 1)[1])
        with smtplib.SMTP("127.0.0.1", port) as smtp:
            refused = smtp.send_message(korean_mail())
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=5)

    assert url.startswith("smtp://127.0.0.1:")
    assert refused == {}
    assert server.returncode == 0
