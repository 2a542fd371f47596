"""A SOLAPI-compatible messages API on loopback, for tests.

The real ``solapi`` SDK (5.0.3) talks to it over HTTP, so tests run the same code as production::

    with FakeSolapi() as fake:
        service = SolapiMessageService(fake.api_key, fake.api_secret)
        service.base_url = fake.base_url
        service.send(RequestMessage(from_="0416615676", to="01012345678", text="안녕하세요"))
        [message] = fake.wait_for_messages(1)

Served: ``POST /messages/v4/send-many/detail`` (what ``send`` calls), ``GET /messages/v4/list-old``
and ``/messages/v4/list`` (``get_messages``), ``GET /cash/v1/balance``. Requests are signed
(see ``tests.fakes.solapi_auth``).

Outcomes at registration (a refused message goes to ``failedMessageList``): 1010 a missing
field, 1025 a bad type, 1026 the same recipient twice, 1031 an SMS over 90 cp949 bytes or an
LMS over 2,000 or a subject over 40, 1041/1042 unknown Kakao channel or template, 1043 text
that differs from the approved template, 1062 a sender not in ``senders``, 3010 a malformed
recipient, 1030 a balance too low; ``reject_number`` scripts any code for one recipient.
``fail_next`` answers HTTP errors (429 rate limit, 500), ``drop_next`` registers the messages
and closes the connection unanswered, ``leave_out_of_answer`` registers one recipient's
messages but leaves them out of ``messageList``. ``hold``/``release`` keep sends in flight (a
worker can die during one), then register and answer them, or close their connections having
taken nothing. ``deliver`` settles accepted messages (4000, or the code set by ``fail_delivery``);
an AlimTalk to someone not in ``kakao_users`` ends 3104 and its SMS/LMS replacement (대체발송)
is delivered instead: the text of its first ``replacements`` entry (``from``, ``to``, ``text``,
``subject``), SMS or LMS by cp949 size, else the AlimTalk text itself. A replacement is checked
at registration like an SMS (1062 a ``from`` not in ``senders``, 1031 too long, 1010 no text).
``received`` is what reached a handset. ``send_report`` POSTs a status report.
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import re
import secrets
import signal
import string
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

from tests.fakes.solapi_auth import ApiError, SignatureChecker
from tests.fakes.solapi_messages import (
    ACCEPTED,
    DELIVERED,
    PRICES,
    SolapiMessage,
    byte_len,
    check_template,
    group_info,
    list_page,
)

log = logging.getLogger(__name__)

# SOLAPI's examples and its group API: at most 10,000 messages in one request.
SEND_MANY_MAX_MESSAGES = 10_000
SEND_PATH = "/messages/v4/send-many/detail"
LIST_PATHS = ("/messages/v4/list-old", "/messages/v4/list")
NOT_KAKAO_USER = "3104"
DOMESTIC = re.compile(r"0\d{8,10}|1\d{7}")


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _solapi_id(prefix: str, now: datetime) -> str:
    tail = "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(15))
    return f"{prefix}4V{now:%Y%m%d%H%M%S}{tail}"


@dataclass
class _Held:
    record: bool | None = None  # set by release() or stop()


@dataclass(frozen=True)
class _Reply:
    status: int
    payload: Any


class FakeSolapi:
    """Serve SOLAPI's messages API on 127.0.0.1 from a background thread."""

    def __init__(
        self,
        api_key: str = "NCSFAKEKEY",
        api_secret: str | None = None,
        *,
        senders: set[str] | None = None,
        balance: float = 100_000.0,
        clock: Callable[[], datetime] = _utcnow,
        latency: float = 0.0,
    ) -> None:
        self.api_key = api_key
        self.api_secret = api_secret or secrets.token_hex(16)
        # Registered sender numbers (발신번호 사전등록), domestic format.
        self.senders = set(senders if senders is not None else {"0416615676", "0544403396"})
        self.balance = balance
        # pfId -> templateId -> approved text with #{변수} placeholders
        self.templates: dict[str, dict[str, str]] = {
            "KA01PF_FAKE_CENTRE": {"KA01TP_FAKE_REMINDER": "#{name}님, #{date}에 상담이 예약되어 있습니다."}
        }
        self.kakao_users: set[str] = set()
        self.account_id = "12925149"
        self.latency = latency  # seconds each send takes before it is registered and answered
        self._clock = clock
        self._checker = SignatureChecker({api_key: self.api_secret}, clock)
        self._changed = threading.Condition()  # guards every field below
        self._messages: dict[str, SolapiMessage] = {}
        self._requests: list[dict[str, Any]] = []
        self._list_queries: list[str] = []
        self._script: deque[_Reply | None] = deque()
        self._rejections: dict[str, str] = {}
        self._unlisted: set[str] = set()
        self._delivery_codes: dict[str, str] = {}
        self._holding = False
        self._held: list[_Held] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self, port: int = 0) -> Self:
        """Bind ``port`` (a free one by default) and serve in a daemon thread.

        Stopped and started again on the port it had (``start(fake.port)``), it keeps what it
        recorded: a test stops the provider and brings it back.
        """
        if self._server is not None:
            raise RuntimeError("FakeSolapi is already running")
        self._server = _Server(("127.0.0.1", port), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-solapi", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; nothing listens on the port afterwards."""
        if self._server is None or self._thread is None:
            return
        with self._changed:
            self._holding = False
            self._decide_held(record=False)
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The port it listens on."""
        if self._server is None:
            raise RuntimeError("FakeSolapi is not running")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """Return what to assign to ``service.base_url``."""
        if self._server is None:
            raise RuntimeError("FakeSolapi is not running")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # -- scripting -------------------------------------------------------------------------

    def fail_next(self, status: int, code: str, message: str = "", times: int = 1) -> None:
        """Answer the next ``times`` sends with HTTP ``status`` and ``{"errorCode": code}``."""
        reply = _Reply(status, {"errorCode": code, "errorMessage": message or f"{code} (fake)"})
        with self._changed:
            self._script.extend([reply] * times)

    def drop_next(self, times: int = 1) -> None:
        """Register the next ``times`` sends, then close the connection without answering."""
        with self._changed:
            self._script.extend([None] * times)

    def leave_out_of_answer(self, to: str) -> None:
        """Register messages to ``to`` but leave them out of the answer (their outcome unknown)."""
        with self._changed:
            self._unlisted.add(to)

    def hold(self) -> None:
        """Keep sends waiting after they are received, until ``release``."""
        with self._changed:
            self._holding = True

    def wait_for_held(self, n: int = 1, timeout: float = 5.0) -> None:
        """Return once ``n`` sends are being held."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._held) >= n, timeout):
                raise TimeoutError(f"{len(self._held)} of {n} sends held after {timeout}s")

    def release(self, record: bool = True) -> int:
        """Stop holding: register and answer the held sends (``record``), or drop them unregistered."""
        with self._changed:
            self._holding = False
            return self._decide_held(record=record)

    def _decide_held(self, *, record: bool) -> int:
        held, self._held = self._held, []
        for request in held:
            request.record = record
        self._changed.notify_all()
        return len(held)

    def reject_number(self, to: str, status_code: str) -> None:
        """Refuse every message to ``to`` at registration with ``status_code`` (e.g. 3010)."""
        with self._changed:
            self._rejections[to] = status_code

    def fail_delivery(self, to: str, status_code: str) -> None:
        """Make ``deliver`` end messages to ``to`` with ``status_code`` instead of 4000."""
        with self._changed:
            self._delivery_codes[to] = status_code

    # -- records ---------------------------------------------------------------------------

    @property
    def messages(self) -> list[SolapiMessage]:
        """Return every registered message, replacements included, oldest first."""
        with self._changed:
            return list(self._messages.values())

    def received(self, to: str) -> list[SolapiMessage]:
        """What reached the handset ``to`` (domestic form): the delivered messages, oldest first."""
        return [m for m in self.messages if m.to == to and m.status_code == DELIVERED]

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Return every send body received (authenticated), whatever the answer."""
        with self._changed:
            return list(self._requests)

    @property
    def list_queries(self) -> list[str]:
        """Return the query string of every authenticated message-list request, oldest first."""
        with self._changed:
            return list(self._list_queries)

    def wait_for_messages(self, n: int, timeout: float = 5.0) -> list[SolapiMessage]:
        """Return the registered messages once there are at least ``n``."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._messages) >= n, timeout):
                raise TimeoutError(f"{len(self._messages)} of {n} messages after {timeout}s")
            return list(self._messages.values())

    # -- delivery and reports --------------------------------------------------------------

    def deliver(self) -> list[SolapiMessage]:
        """Settle every accepted message (and make AlimTalk replacements); return what changed."""
        changed: list[SolapiMessage] = []
        with self._changed:
            for message in [m for m in self._messages.values() if m.status_code == ACCEPTED]:
                now = self._clock()
                code = self._delivery_codes.get(message.to, DELIVERED)
                if message.type == "ATA" and message.to not in self.kakao_users:
                    code = NOT_KAKAO_USER
                settled = replace(message, status_code=code, date_updated=now, date_reported=now)
                self._messages[message.message_id] = settled
                changed.append(settled)
                kakao = message.kakao_options or {}
                if code == NOT_KAKAO_USER and not kakao.get("disableSms"):
                    changed.append(self._replacement(settled, now))
            self._changed.notify_all()
        return changed

    def _replacement(self, message: SolapiMessage, now: datetime) -> SolapiMessage:
        # The shape of a replacement in SOLAPI's list is a guess: a second message, same group.
        given = message.replacements[0] if message.replacements else {}
        text = str(given.get("text") or message.text or "")
        subject = given.get("subject")
        copy = replace(
            message,
            message_id=_solapi_id("M", now),
            type="LMS" if subject or byte_len(text) > 90 else "SMS",
            from_=str(given.get("from") or message.from_),
            text=text,
            subject=subject,
            kakao_options=None,
            replacements=(),
            replacement=True,
            status_code=DELIVERED,
            date_created=now,
        )
        self._messages[copy.message_id] = copy
        return copy

    def report(self, message_id: str) -> list[dict[str, Any]]:
        """Build the status report SOLAPI POSTs for one message (the SDK's SingleReportPayload)."""
        with self._changed:
            message = self._messages[message_id]
        return [{"eventDataId": secrets.token_hex(12), "data": message.report_data(), "retryCount": 0}]

    def send_report(self, url: str, message_id: str) -> int:
        """POST the status report of ``message_id`` to ``url`` as JSON; return the HTTP status."""
        parts = urlsplit(url)
        connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
        body = json.dumps(self.report(message_id), ensure_ascii=False).encode()
        try:
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            connection.request("POST", target, body, {"Content-Type": "application/json"})
            response = connection.getresponse()
            response.read()
            return response.status
        finally:
            connection.close()

    # -- the API ---------------------------------------------------------------------------

    def answer(self, method: str, path: str, query: str, body: bytes, auth: str | None) -> _Reply | None:
        """Answer one request; None means close the connection without a response."""
        try:
            with self._changed:
                self._checker.check(auth)
            if method == "POST" and path == SEND_PATH:
                try:
                    payload = json.loads(body or b"{}")
                except json.JSONDecodeError:
                    raise ApiError(400, "ValidationError", "JSON 형식이 아닙니다.") from None
                return self._send(payload)
            if method == "GET" and path in LIST_PATHS:
                with self._changed:
                    self._list_queries.append(query)
                return _Reply(200, self._list(query))
            if method == "GET" and path == "/cash/v1/balance":
                return _Reply(200, {"balance": self.balance, "point": 0})
            raise ApiError(404, "NotFound", f"{method} {path}")
        except ApiError as error:
            return _Reply(error.status, {"errorCode": error.code, "errorMessage": error.message})

    def _send(self, body: dict[str, Any]) -> _Reply | None:
        with self._changed:
            self._requests.append(body)
            scripted = self._script.popleft() if self._script else "none"
            if self._holding and not isinstance(scripted, _Reply):
                held = _Held()
                self._held.append(held)
                self._changed.notify_all()
                self._changed.wait_for(lambda: held.record is not None)
                if not held.record:
                    return None  # the connection closes; nothing was registered
        if self.latency:
            time.sleep(self.latency)  # the provider's own time, in this request's thread
        if isinstance(scripted, _Reply):
            return scripted
        raw = body.get("messages")
        if not isinstance(raw, list) or not raw:
            raise ApiError(400, "ValidationError", "messages는 1개 이상이어야 합니다.")
        # The SDK lets `to` be a list; the API makes one message per recipient.
        expanded = [
            {**m, "to": t} for m in raw for t in (m["to"] if isinstance(m.get("to"), list) else [m.get("to")])
        ]
        if len(expanded) > SEND_MANY_MAX_MESSAGES:
            raise ApiError(
                400, "ValidationError", f"한 번에 {SEND_MANY_MAX_MESSAGES}건까지 발송할 수 있습니다."
            )
        now = self._clock()
        group_id = _solapi_id("G", now)
        accepted: list[SolapiMessage] = []
        failed: list[dict[str, Any]] = []
        seen_to: set[str] = set()
        with self._changed:
            for item in expanded:
                kind, code = self._register(item, seen_to, bool(body.get("allowDuplicates")))
                message = SolapiMessage.from_request(item, _solapi_id("M", now), group_id, kind, code, now)
                if code != ACCEPTED:
                    failed.append(message.failed_entry(self.account_id))
                    continue
                self._messages[message.message_id] = message
                accepted.append(message)
            self._changed.notify_all()
        if scripted is None:
            return None
        answer: dict[str, Any] = {
            "failedMessageList": failed,
            "groupInfo": group_info(group_id, self.account_id, accepted, len(failed), body, now),
        }
        if body.get("showMessageList"):  # like SOLAPI: per-message ids only on request
            answer["messageList"] = [m.accepted_entry() for m in accepted if m.to not in self._unlisted]
        return _Reply(200, answer)

    def _register(self, item: dict[str, Any], seen_to: set[str], allow_duplicates: bool) -> tuple[str, str]:
        """Return (type, statusCode) for one message; 2000 means accepted (caller holds the lock)."""
        to, sender, text = str(item.get("to") or ""), str(item.get("from") or ""), item.get("text")
        kakao = item.get("kakaoOptions") or {}
        kind = item.get("type") or ("ATA" if kakao.get("templateId") else None)
        if kind is None:
            kind = "LMS" if item.get("subject") or byte_len(text or "") > 90 else "SMS"
        if kind not in PRICES:
            return str(kind), "1025"
        if not to or not sender or (kind != "ATA" and not text):
            return kind, "1010"
        if to in self._rejections:
            return kind, self._rejections[to]
        if not DOMESTIC.fullmatch(to):
            return kind, "3010"
        if sender not in self.senders:
            return kind, "1062"
        if to in seen_to and not allow_duplicates:
            return kind, "1026"
        limit = 90 if kind == "SMS" else 2000
        if byte_len(text or "") > limit or byte_len(item.get("subject") or "") > 40:
            return kind, "1031"
        if kind == "ATA":
            code = self._check_replacements(item) or check_template(self.templates, item)
            if code != ACCEPTED:
                return kind, code
        if self.balance < PRICES[kind]:
            return kind, "1030"
        self.balance -= PRICES[kind]
        seen_to.add(to)
        return kind, ACCEPTED

    def _check_replacements(self, item: dict[str, Any]) -> str | None:
        """The code refusing an AlimTalk's replacement messages, or None if SOLAPI would take them."""
        for replacement in item.get("replacements") or ():
            text, subject = str(replacement.get("text") or ""), str(replacement.get("subject") or "")
            if not text or not replacement.get("to"):
                return "1010"
            if str(replacement.get("from") or "") not in self.senders:
                return "1062"
            if byte_len(text) > 2000 or byte_len(subject) > 40:
                return "1031"
        return None

    def _list(self, query: str) -> dict[str, Any]:
        with self._changed:
            stored = list(self._messages.values())
        try:
            return list_page(stored, query)
        except ValueError as error:
            raise ApiError(400, "ValidationError", str(error)) from None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # benchmarks open many connections at once

    def __init__(self, address: tuple[str, int], fake: FakeSolapi) -> None:
        super().__init__(address, _Handler)
        self.fake = fake

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # a client that hung up is part of a test, not a failure
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.0: one request per connection, so a drop is always a fresh connection closing.
    server: _Server
    timeout = 10

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def _handle(self, method: str) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        reply = self.server.fake.answer(method, url.path, url.query, body, self.headers.get("Authorization"))
        if reply is None:
            self.close_connection = True
            return
        data = json.dumps(reply.payload, ensure_ascii=False).encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)


def main(argv: list[str] | None = None) -> None:
    """Serve a FakeSolapi until SIGTERM or SIGINT (benchmarks run it as its own process)."""
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.solapi_server")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--api-key", default="NCSFAKEKEY")
    parser.add_argument("--api-secret")
    args = parser.parse_args(argv)
    # Block the signals before any thread starts, so only sigwait() below receives them.
    stop_signals = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    fake = FakeSolapi(args.api_key, args.api_secret, balance=1e12, latency=args.latency_ms / 1000)
    fake.start(args.port)
    try:
        print(fake.base_url, flush=True)
        print(f"api_key={fake.api_key} api_secret={fake.api_secret}", file=sys.stderr)
        signal.sigwait(stop_signals)
    finally:
        fake.stop()
    # What it took, for the benchmark: every registered message and the recipients it had seen.
    seen = Counter(message.to for message in fake.messages)
    by_prefix = Counter(message.to[:4] for message in fake.messages)
    duplicates = {to: n for to, n in seen.items() if n > 1}
    summary = {"messages": sum(seen.values()), "by_prefix": by_prefix, "duplicates": duplicates}
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
