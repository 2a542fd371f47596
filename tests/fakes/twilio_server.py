"""A Twilio-compatible Messages API on loopback, for tests and benchmarks.

The real ``twilio`` client talks to it over HTTP, so tests run the same code as production::

    with FakeTwilio() as fake:
        client = Client(fake.account_sid, fake.auth_token)
        client.api.base_url = fake.base_url
        client.messages.create(to="+821012345678", from_="+82416615676", body="안녕하세요")
        [message] = fake.wait_for_messages(1)

Scripted behaviours drive the error paths a worker meets: ``fail_next`` (HTTP errors with
Twilio codes), ``reject_number`` (a recipient that always fails), ``drop_next`` (connection
closed without an answer), ``hold``/``release`` (a call in flight while the worker dies) and
``latency``. ``send_status_callback`` and ``send_inbound`` sign webhooks as Twilio does.

Standalone, for benchmarks (serves until SIGTERM, prints its base URL on stdout)::

    python -m tests.fakes.twilio_server --port 8081 --latency-ms 50
"""

from __future__ import annotations

import argparse
import base64
import hmac
import http.client
import json
import logging
import operator
import re
import secrets
import signal
import sys
import threading
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlencode, urlsplit

from twilio.request_validator import RequestValidator

log = logging.getLogger(__name__)

API_VERSION = "2010-04-01"
MAX_BODY_CHARS = 1600
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
E164 = re.compile(r"\+[1-9]\d{1,14}")
# From: an E.164 number, a short code, or an alphanumeric sender ID.
SENDER = re.compile(r"\+[1-9]\d{1,14}|\d{3,8}|(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}")
MESSAGES_PATH = re.compile(rf"/{API_VERSION}/Accounts/(?P<account>\w+)/Messages(?:/(?P<sid>\w+))?\.json")

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")  # each costs an escape septet as well

ERROR_MESSAGES = {
    20001: "Invalid parameter",
    20003: "Authenticate",
    20004: "Method not allowed",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    20500: "Internal Server Error",
    20503: "Service Unavailable",
    21211: "Invalid 'To' Phone Number",
    21212: "Invalid 'From' Phone Number",
    21602: "Message body is required.",
    21603: "A 'From' phone number is required.",
    21604: "A 'To' phone number is required.",
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number is not a valid mobile number",
    21617: "The concatenated message body exceeds the 1600 character limit.",
}

DATE_SENT_FILTERS: dict[str, Callable[[date, date], bool]] = {
    # twilio-python sends date_sent_after as "DateSent>"; a hand-written URL
    # "DateSent>=2024-05-01" parses the same way. Both bounds are inclusive, and Twilio
    # documents them per GMT day: the time of day twilio-python sends along is ignored,
    # so a list never promises more precision than production gives.
    "DateSent": operator.eq,
    "DateSent>": operator.ge,
    "DateSent>=": operator.ge,
    "DateSent<": operator.le,
    "DateSent<=": operator.le,
}


def sms_segments(body: str) -> int:
    """Count the segments Twilio bills for ``body``: GSM-7 160/153, otherwise UCS-2 70/67."""
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in body):
        units = [2 if ch in GSM7_EXTENSION else 1 for ch in body]
        single, multi = 160, 153
    else:
        units = [len(ch.encode("utf-16-le")) // 2 for ch in body]
        single, multi = 70, 67
    if sum(units) <= single:
        return 1
    # A concatenated segment never splits an escape pair or a surrogate pair.
    segments, used = 1, 0
    for size in units:
        if used + size > multi:
            segments, used = segments + 1, 0
        used += size
    return segments


@dataclass(frozen=True)
class TwilioMessage:
    """One message the fake accepted, as Twilio stores it."""

    sid: str
    to: str
    from_: str | None
    body: str
    status_callback: str | None
    messaging_service_sid: str | None
    date_created: datetime
    date_updated: datetime
    status: str
    num_segments: int
    error_code: int | None = None


@dataclass(frozen=True)
class CreateRequest:
    """One POST to Messages.json as received, whatever the fake answered."""

    params: dict[str, str]
    received_at: datetime


@dataclass(frozen=True)
class _Reply:
    status: int
    payload: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Held:
    record: bool | None = None  # set by release() or stop()


@dataclass(frozen=True)
class _SentDateFilter:
    compare: Callable[[date, date], bool]
    day: date

    def admits(self, sent: datetime) -> bool:
        return self.compare(sent.date(), self.day)


def twilio_error(status: int, code: int, message: str | None = None) -> _Reply:
    """Build the JSON error Twilio answers with, which twilio-python turns into an exception."""
    payload = {
        "code": code,
        "message": message or ERROR_MESSAGES.get(code, f"Error {code}"),
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    headers = {"WWW-Authenticate": 'Basic realm="Twilio API"'} if status == 401 else {}
    return _Reply(status, payload, headers)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _gmt_day(raw: str) -> date:
    if len(raw) == 10:
        return date.fromisoformat(raw)
    moment = datetime.fromisoformat(raw)
    return (moment.astimezone(UTC) if moment.tzinfo else moment).date()


class FakeTwilio:
    """Serve the Twilio Messages API on 127.0.0.1 from a background thread."""

    def __init__(
        self,
        account_sid: str | None = None,
        auth_token: str | None = None,
        latency: float = 0.0,
        *,
        port: int = 0,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.account_sid = account_sid or "AC" + uuid.uuid4().hex
        self.auth_token = auth_token or secrets.token_hex(16)
        self.latency = latency
        self._port = port
        self._clock = clock
        self._changed = threading.Condition()  # guards every field below
        self._messages: list[TwilioMessage] = []
        self._requests: list[CreateRequest] = []
        self._script: deque[_Reply | None] = deque()  # None: drop the connection
        self._rejections: dict[str, _Reply] = {}
        self._holding = False
        self._held: list[_Held] = []
        self._in_flight = 0
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> Self:
        """Bind the port and serve in a daemon thread."""
        if self._server is not None:
            raise RuntimeError("FakeTwilio is already running")
        self._stopping.clear()
        self._server = _Server(("127.0.0.1", self._port), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-twilio",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Drop held and delayed requests, stop serving, and wait until none is in progress."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        with self._changed:
            self._stopping.set()
            self._holding = False
            self._decide_held(record=False)
        server.shutdown()
        server.server_close()
        thread.join()
        # Handler threads are daemons, which server_close() does not join: wait for the
        # requests themselves, so nothing is recorded after stop() returns.
        with self._changed:
            self._changed.wait_for(lambda: self._in_flight == 0, timeout=10)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """Return what to assign to ``client.api.base_url``."""
        if self._server is None:
            raise RuntimeError("FakeTwilio is not running")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # -- scripting -------------------------------------------------------------------------

    def fail_next(self, status: int, code: int | None = None, times: int = 1) -> None:
        """Answer the next ``times`` creates with ``status`` and ``code`` (default 20000+status)."""
        reply = twilio_error(status, code if code is not None else 20000 + status)
        with self._changed:
            self._script.extend([reply] * times)

    def drop_next(self, times: int = 1) -> None:
        """Close the connection on the next ``times`` creates without answering or recording."""
        with self._changed:
            self._script.extend([None] * times)

    def reject_number(self, to: str, status: int = 400, code: int = 21211) -> None:
        """Fail every create to ``to`` (21610: unsubscribed, 21614: not a mobile number)."""
        with self._changed:
            self._rejections[to] = twilio_error(status, code)

    def hold(self) -> None:
        """Block creates after they are received, until ``release``."""
        with self._changed:
            self._holding = True

    def wait_for_held(self, n: int = 1, timeout: float = 5.0) -> None:
        """Return once ``n`` creates are being held."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._held) >= n, timeout):
                raise TimeoutError(f"{len(self._held)} of {n} creates held after {timeout}s")

    def release(self, record: bool = True) -> int:
        """Stop holding; answer the held creates (``record``) or drop them; return how many."""
        with self._changed:
            self._holding = False
            return self._decide_held(record=record)

    def reset(self) -> None:
        """Forget records and scripts (latency stays), dropping anything held."""
        with self._changed:
            self._messages.clear()
            self._requests.clear()
            self._script.clear()
            self._rejections.clear()
            self._holding = False
            self._decide_held(record=False)

    def _decide_held(self, *, record: bool) -> int:
        held, self._held = self._held, []
        for request in held:
            request.record = record
        self._changed.notify_all()
        return len(held)

    # -- records ---------------------------------------------------------------------------

    @property
    def messages(self) -> list[TwilioMessage]:
        """Return the accepted messages, oldest first."""
        with self._changed:
            return list(self._messages)

    @property
    def requests(self) -> list[CreateRequest]:
        """Return every create request received, accepted or not."""
        with self._changed:
            return list(self._requests)

    def wait_for_messages(self, n: int, timeout: float = 5.0) -> list[TwilioMessage]:
        """Return the accepted messages once there are at least ``n``."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._messages) >= n, timeout):
                raise TimeoutError(f"{len(self._messages)} of {n} messages after {timeout}s")
            return list(self._messages)

    # -- webhooks --------------------------------------------------------------------------

    def send_status_callback(
        self,
        sid: str,
        status: str,
        error_code: int | None = None,
        *,
        url: str | None = None,
        signature: str | None = None,
    ) -> int:
        """Move ``sid`` to ``status`` and POST that to its StatusCallback; return the status."""
        with self._changed:
            index = next((i for i, m in enumerate(self._messages) if m.sid == sid), None)
            if index is None:
                raise KeyError(f"no message {sid}")
            message = replace(
                self._messages[index],
                status=status,
                error_code=error_code,
                date_updated=self._now(),
            )
            self._messages[index] = message
        target = url or message.status_callback
        if target is None:
            raise ValueError(f"message {sid} has no StatusCallback; pass url=")
        params = {
            "MessageSid": sid,
            "SmsSid": sid,
            "MessageStatus": status,
            "SmsStatus": status,
            "AccountSid": self.account_sid,
            "To": message.to,
            "ApiVersion": API_VERSION,
        }
        if message.from_:
            params["From"] = message.from_
        if message.messaging_service_sid:
            params["MessagingServiceSid"] = message.messaging_service_sid
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
        return self._post_webhook(target, params, signature)

    def send_inbound(self, url: str, from_: str, to: str, body: str, *, signature: str | None = None) -> int:
        """POST an incoming SMS to ``url`` as Twilio's messaging webhook; return the HTTP status."""
        sid = "SM" + uuid.uuid4().hex
        params = {
            "MessageSid": sid,
            "SmsMessageSid": sid,
            "SmsSid": sid,
            "AccountSid": self.account_sid,
            "From": from_,
            "To": to,
            "Body": body,
            "NumMedia": "0",
            "NumSegments": str(sms_segments(body)),
            "SmsStatus": "received",
            "ApiVersion": API_VERSION,
        }
        return self._post_webhook(url, params, signature)

    def _post_webhook(self, url: str, params: dict[str, str], signature: str | None) -> int:
        if signature is None:
            signature = RequestValidator(self.auth_token).compute_signature(url, params)
        parts = urlsplit(url)
        connection_class = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        connection = connection_class(parts.hostname or "127.0.0.1", parts.port, timeout=10)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "User-Agent": "TwilioProxy/1.1",
            "X-Twilio-Signature": signature,
        }
        try:
            connection.request("POST", target, urlencode(params).encode("ascii"), headers)
            response = connection.getresponse()
            response.read()
            return response.status
        finally:
            connection.close()

    # -- the API ---------------------------------------------------------------------------

    def _now(self) -> datetime:
        # Twilio's RFC 2822 dates carry whole seconds; store what clients can see.
        return self._clock().astimezone(UTC).replace(microsecond=0)

    def _answer(
        self, method: str, path: str, query: dict[str, str], form: dict[str, str], auth: str | None
    ) -> _Reply | None:
        """Answer one request; None means close the connection without a response."""
        with self._changed:
            if self._stopping.is_set():
                return None
            self._in_flight += 1
        try:
            return self._respond(method, path, query, form, auth)
        finally:
            with self._changed:
                self._in_flight -= 1
                self._changed.notify_all()

    def _respond(
        self, method: str, path: str, query: dict[str, str], form: dict[str, str], auth: str | None
    ) -> _Reply | None:
        match = MESSAGES_PATH.fullmatch(path)
        creating = method == "POST" and match is not None and match["sid"] is None
        if creating:
            with self._changed:
                self._requests.append(CreateRequest(form, self._clock()))
            if self.latency and self._stopping.wait(self.latency):
                return None  # stopped while "in transit"
        if not self._authenticated(auth):
            return twilio_error(401, 20003)
        if match is None or match["account"] != self.account_sid:
            return twilio_error(404, 20404, f"The requested resource {path} was not found")
        if match["sid"] is not None:
            return self._fetch(match["sid"]) if method == "GET" else twilio_error(405, 20004)
        return self._create(form) if creating else self._list(path, query)

    def _authenticated(self, header: str | None) -> bool:
        scheme, _, encoded = (header or "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            supplied = base64.b64decode(encoded, validate=True)
        except ValueError:
            return False
        expected = f"{self.account_sid}:{self.auth_token}".encode()
        return hmac.compare_digest(supplied, expected)

    def _create(self, form: dict[str, str]) -> _Reply | None:
        with self._changed:
            if self._script:
                return self._script.popleft()
        problem = self._invalid(form)
        if problem is not None:
            return problem
        with self._changed:
            rejection = self._rejections.get(form["To"])
            if rejection is not None:
                return rejection
            if self._holding:
                held = _Held()
                self._held.append(held)
                self._changed.notify_all()
                self._changed.wait_for(lambda: held.record is not None)
                if not held.record:
                    return None
        return _Reply(201, self._resource(self._record(form), created=True))

    @staticmethod
    def _invalid(form: dict[str, str]) -> _Reply | None:
        to, body, sender = form.get("To", ""), form.get("Body", ""), form.get("From", "")
        if not to:
            return twilio_error(400, 21604)
        if not body and not form.get("MediaUrl") and not form.get("ContentSid"):
            return twilio_error(400, 21602)
        if not sender and not form.get("MessagingServiceSid"):
            return twilio_error(400, 21603)
        if len(body) > MAX_BODY_CHARS:
            return twilio_error(400, 21617)
        if not E164.fullmatch(to):
            return twilio_error(400, 21211, f"Invalid 'To' Phone Number: {to}")
        if sender and not SENDER.fullmatch(sender):
            return twilio_error(400, 21212, f"Invalid 'From' Phone Number: {sender}")
        return None

    def _record(self, form: dict[str, str]) -> TwilioMessage:
        now = self._now()
        message = TwilioMessage(
            sid="SM" + uuid.uuid4().hex,
            to=form["To"],
            from_=form.get("From") or None,
            body=form.get("Body", ""),
            status_callback=form.get("StatusCallback") or None,
            messaging_service_sid=form.get("MessagingServiceSid") or None,
            date_created=now,
            date_updated=now,
            # Through a messaging service Twilio picks the sender later: "accepted".
            status="queued" if form.get("From") else "accepted",
            num_segments=sms_segments(form.get("Body", "")),
        )
        with self._changed:
            self._messages.append(message)
            self._changed.notify_all()
        return message

    def _fetch(self, sid: str) -> _Reply:
        with self._changed:
            message = next((m for m in self._messages if m.sid == sid), None)
        if message is None:
            return twilio_error(404, 20404, f"The requested resource {sid} was not found")
        return _Reply(200, self._resource(message, created=False))

    def _list(self, path: str, query: dict[str, str]) -> _Reply:
        try:
            page = int(query.get("Page", "0"))
            size = int(query.get("PageSize", str(DEFAULT_PAGE_SIZE)))
            sent = [
                _SentDateFilter(compare, _gmt_day(query[key]))
                for key, compare in DATE_SENT_FILTERS.items()
                if key in query
            ]
        except ValueError as error:
            return twilio_error(400, 20001, f"Invalid parameter: {error}")
        if page < 0 or not 1 <= size <= MAX_PAGE_SIZE:
            return twilio_error(400, 20001, "Invalid Page or PageSize")
        with self._changed:
            newest_first = self._messages[::-1]
        matching = [
            m
            for m in newest_first
            if query.get("To", m.to) == m.to
            and query.get("From", m.from_) == m.from_
            and all(f.admits(m.date_created) for f in sent)
        ]
        start = page * size
        chunk = matching[start : start + size]
        filters = {k: v for k, v in query.items() if k in ("To", "From") or k in DATE_SENT_FILTERS}

        def page_uri(number: int) -> str:
            return f"{path}?{urlencode({**filters, 'PageSize': size, 'Page': number})}"

        return _Reply(
            200,
            {
                "messages": [self._resource(m, created=False) for m in chunk],
                "start": start,
                "end": start + max(len(chunk) - 1, 0),
                "page": page,
                "page_size": size,
                "uri": page_uri(page),
                "first_page_uri": page_uri(0),
                "previous_page_uri": page_uri(page - 1) if page > 0 else None,
                "next_page_uri": page_uri(page + 1) if start + size < len(matching) else None,
            },
        )

    def _resource(self, message: TwilioMessage, *, created: bool) -> dict[str, Any]:
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{message.sid}.json"
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": message.body,
            "date_created": format_datetime(message.date_created),
            # The fake hands messages to the carrier at once; only the create answer predates it.
            "date_sent": None if created else format_datetime(message.date_created),
            "date_updated": format_datetime(message.date_updated),
            "direction": "outbound-api",
            "error_code": message.error_code,
            "error_message": None,
            "from": message.from_,
            "messaging_service_sid": message.messaging_service_sid,
            "num_media": "0",
            "num_segments": str(message.num_segments),
            "price": None,
            "price_unit": "USD",
            "sid": message.sid,
            "status": message.status,
            "subresource_uris": {
                "media": uri.removesuffix(".json") + "/Media.json",
                "feedback": uri.removesuffix(".json") + "/Feedback.json",
            },
            "to": message.to,
            "uri": uri,
        }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # benchmarks open hundreds of connections at once

    def __init__(self, address: tuple[str, int], fake: FakeTwilio) -> None:
        super().__init__(address, _Handler)
        self.fake = fake

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hung up (a killed worker) is part of the script, not a failure.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.0 (the default): one request per connection, so a drop is always a fresh
    # connection closing unanswered, and an idle pooled client never pins a thread.
    server: _Server
    timeout = 10  # a client that connects and never sends does not keep its thread forever

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def _handle(self, method: str) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        form = self.rfile.read(length).decode() if length else ""
        reply = self.server.fake._answer(
            method, url.path, _flat(url.query), _flat(form), self.headers.get("Authorization")
        )
        if reply is None:
            self.close_connection = True
            return
        body = json.dumps(reply.payload, ensure_ascii=False).encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Twilio-Request-Id", "RQ" + uuid.uuid4().hex)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)


def _flat(encoded: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(encoded, keep_blank_values=True).items()}


def main(argv: list[str] | None = None) -> None:
    """Serve a FakeTwilio until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.twilio_server")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--account-sid")
    parser.add_argument("--auth-token")
    args = parser.parse_args(argv)
    # Block the signals before any thread starts, so only sigwait() below receives them.
    stop_signals = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    fake = FakeTwilio(args.account_sid, args.auth_token, args.latency_ms / 1000, port=args.port)
    with fake:
        print(fake.base_url, flush=True)
        print(f"account_sid={fake.account_sid} auth_token={fake.auth_token}", file=sys.stderr)
        signal.sigwait(stop_signals)


if __name__ == "__main__":
    main()
