"""SMS and LMS through SOLAPI, a domestic gateway, with its official ``solapi`` SDK.

SOLAPI sends from the centre's registered number (발신번호 사전등록), so the handset shows no
``[국제발신]`` mark. The class follows the cp949 byte count of the body (KOREA.md section 3).

Timeouts: the SDK opens one ``httpx.Client`` per call with httpx's default 5 s timeout and
three connect retries, and offers no way to change either; ``NOTIFIER_PROVIDER_TIMEOUT_SECONDS``
does not apply. A call gives up after about 5 s once connected (longer while it cannot connect,
which sends nothing).

The SDK reports failures as a bare ``Exception(errorCode, errorMessage)`` for HTTP 4xx,
``Exception("UnknownError", body)`` for 5xx, ``MessageNotReceivedError`` when every message
was refused at registration, httpx errors for the network and pydantic's ``ValidationError``
for an answer it cannot read. ``classify`` sorts them into one ``ProviderError``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import phonenumbers
import pydantic
from phonenumbers import PhoneNumberFormat
from solapi import SolapiMessageService
from solapi.error.MessageNotReceiveError import MessageNotReceivedError
from solapi.model import MessageType, RequestMessage, SendRequestConfig
from solapi.model.request.messages.get_messages import GetMessagesRequest
from solapi.model.response.send_message_response import FailedMessage

from notifier.channels.base import Accepted, AlimtalkRequest, SmsRequest, provider_call
from notifier.channels.solapi_kakao import alimtalk_body, post_send_many
from notifier.config import SolapiSettings
from notifier.domain.sms import LMS_SUBJECT_MAX_BYTES, KrClass, cp949_bytes, kr_class
from notifier.errors import UNKNOWN_OUTCOME, ProviderError

NAME = "solapi"
# Our own cap on one send-many call. SOLAPI documents 10,000 messages per request, but the SDK's
# fixed 5 s timeout must cover registering the whole batch: a read timeout leaves every
# message of the batch in an unknown state.
MAX_BATCH = 1000
CUSTOM_FIELD = "notifierId"
# Refused at registration for lack of money: an operator tops the account up, and until then
# the message waits with backoff. Every other refusal code is permanent (see ``refusal``).
BALANCE_CODES = frozenset({"1030", "2230"})
INSUFFICIENT_BALANCE = "insufficient_balance"
# HTTP errors (the SDK keeps only SOLAPI's errorCode) whose credentials will not work next time.
AUTH_CODES = frozenset({"InvalidAPIKey", "SignatureDoesNotMatch", "InvalidAuthorization", "Forbidden"})
# HTTP errors worth another try: rate limits, 5xx (the SDK names them all UnknownError), and
# signature problems a fresh signature (new salt and date) may not have.
RETRYABLE_API_CODES = frozenset(
    {"TooManyRequests", "RateLimitExceeded", "UnknownError", "DuplicatedSignature", "RequestTimeTooSkewed"}
)
# Pages of the message list read when looking for a message sent before a crash.
FIND_PAGE_SIZE = 100
FIND_MAX_PAGES = 5


def classify(exc: Exception) -> ProviderError:
    """Sort SOLAPI SDK failures into retry-later, give-up and ask-before-resending."""
    if isinstance(exc, MessageNotReceivedError):
        first = exc.failed_messages[0] if exc.failed_messages else None
        if first is None:
            return ProviderError(False, "registration_failed", str(exc), NAME)
        return refusal(str(first.status_code), str(first.status_message))
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return ProviderError(True, "network", str(exc) or type(exc).__name__, NAME)
    if isinstance(exc, httpx.TransportError):
        # ReadTimeout, WriteTimeout, RemoteProtocolError...: the request may have been taken.
        return ProviderError(False, UNKNOWN_OUTCOME, str(exc) or type(exc).__name__, NAME)
    if isinstance(exc, pydantic.ValidationError):
        # A 2xx answer we cannot read: SOLAPI may well have registered the message.
        return ProviderError(False, UNKNOWN_OUTCOME, f"unreadable answer: {exc.error_count()} errors", NAME)
    if isinstance(exc, json.JSONDecodeError):
        # Only a 4xx answer escapes undecoded: refused, so sending again is safe.
        return ProviderError(True, "unreadable_error", str(exc), NAME)
    if type(exc) is Exception and len(exc.args) == 2:
        code, message = (str(arg) for arg in exc.args)
        if code in AUTH_CODES:
            return ProviderError(False, code, message, NAME)
        return ProviderError(code in RETRYABLE_API_CODES, code, message[:300], NAME)
    if type(exc) is Exception:
        # The SDK's "2xx but not JSON": SOLAPI answered, so it may have taken the message.
        return ProviderError(False, UNKNOWN_OUTCOME, str(exc)[:300], NAME)
    return ProviderError(False, "solapi_error", str(exc) or type(exc).__name__, NAME)


def refusal(status_code: str, status_message: str) -> ProviderError:
    """Turn a message SOLAPI refused at registration into a ProviderError."""
    # Permanent: 1010 missing field, 1025 bad type, 1026 same recipient twice in one request,
    # 1031 too long, 1041-1043 Kakao channel or template, 1062 unregistered sender,
    # 3010/3032 invalid number, and any code we do not know.
    if status_code in BALANCE_CODES:
        return ProviderError(True, INSUFFICIENT_BALANCE, f"{status_code} {status_message}", NAME)
    return ProviderError(False, status_code, status_message, NAME)


def domestic_number(number: str) -> str:
    """Write a number as SOLAPI wants it: domestic digits only (``+82416615676`` -> ``0416615676``)."""
    compact = "".join(ch for ch in number if ch.isdigit() or ch == "+")
    if compact.startswith("0082"):
        compact = "+" + compact[2:]
    if not compact.startswith("+"):
        return compact
    if not compact.startswith("+82"):
        raise ValueError("SOLAPI sends to and from Korean numbers only")
    if len(compact) == 13 and compact.startswith("+8210"):
        return "0" + compact[3:]  # a mobile number (010): its trunk 0 back, as the parse below gives
    national = phonenumbers.format_number(phonenumbers.parse(compact), PhoneNumberFormat.NATIONAL)
    # National format keeps the trunk 0 for area and mobile numbers, none for 1588-style numbers.
    return "".join(ch for ch in national if ch.isdigit())


# Senders are a centre's few numbers: each is parsed once per process (recipients are not kept).
_domestic_sender = functools.lru_cache(maxsize=64)(domestic_number)


def lms_subject(body: str) -> str | None:
    """Use the body's first line as the LMS subject when there is more and it fits in 40 bytes."""
    first, newline, rest = body.strip().partition("\n")
    first = first.strip()
    if not newline or not rest.strip() or not first:
        return None
    return first if cp949_bytes(first) <= LMS_SUBJECT_MAX_BYTES else None


@dataclass(frozen=True)
class _Prepared:
    request: SmsRequest
    message: RequestMessage
    kr_class: KrClass


def prepare(request: SmsRequest) -> _Prepared:
    """Build the SDK message for ``request``; raise ProviderError when no gateway would take it."""
    nbytes = cp949_bytes(request.body)
    size = kr_class(nbytes)
    if size is None:
        raise ProviderError(False, "body_too_long", f"{nbytes} cp949 bytes; an LMS takes 2,000", NAME)
    try:
        sender, to = _domestic_sender(request.sender), domestic_number(request.to)
    except (ValueError, phonenumbers.NumberParseException) as exc:
        raise ProviderError(False, "not_domestic", str(exc), NAME) from exc
    message = RequestMessage(
        from_=sender,
        to=to,
        text=request.body,
        type=MessageType.SMS if size is KrClass.SMS else MessageType.LMS,
        subject=lms_subject(request.body) if size is KrClass.LMS else None,
        custom_fields={CUSTOM_FIELD: request.message_id},
    )
    return _Prepared(request, message, size)


class SolapiSender:
    """Send through one SDK service; it keeps no connection, so threads may share it."""

    name = NAME

    def __init__(self, settings: SolapiSettings) -> None:
        self.settings = settings
        self.service = SolapiMessageService(api_key=settings.api_key, api_secret=settings.api_secret)
        # The SDK's one seam for another host: a plain attribute set in its __init__.
        self.service.base_url = settings.base_url

    def send(self, request: SmsRequest) -> Accepted:
        """Send one SMS or LMS; its class follows the cp949 byte count."""
        prepared = prepare(request)

        def call() -> Accepted:
            answer = self.service.send(prepared.message, SendRequestConfig(show_message_list=True))
            for failed in answer.failed_message_list or []:
                raise refusal(str(failed.status_code), str(failed.status_message))
            for item in answer.message_list or []:
                return self._accepted(item.message_id, item.status_code, prepared, answer.group_info.group_id)
            raise ProviderError(False, UNKNOWN_OUTCOME, "the answer lists no message", NAME)

        return provider_call(NAME, "send-many/detail", request.message_id, call, classify)

    def send_many(self, requests: Sequence[SmsRequest]) -> list[Accepted | ProviderError]:
        """Send up to ``MAX_BATCH`` messages in one call; return one outcome per request, in order."""
        if len(requests) > MAX_BATCH:
            raise ValueError(f"at most {MAX_BATCH} messages per call, got {len(requests)}")
        if len({r.message_id for r in requests}) != len(requests):
            raise ValueError("message ids must be unique within a batch")
        outcomes: dict[str, Accepted | ProviderError] = {}
        prepared: list[_Prepared] = []
        for request in requests:
            try:
                prepared.append(prepare(request))
            except ProviderError as refused:
                outcomes[request.message_id] = refused
        if prepared:
            outcomes.update(self._send_batch(prepared))
        return [outcomes[r.message_id] for r in requests]

    def _send_batch(self, batch: list[_Prepared]) -> dict[str, Accepted | ProviderError]:
        by_id = {p.request.message_id: p for p in batch}
        label = f"batch of {len(batch)} from {batch[0].request.message_id}"
        try:
            answer = provider_call(
                NAME,
                "send-many/detail",
                label,
                lambda: self.service.send(
                    [p.message for p in batch], SendRequestConfig(show_message_list=True)
                ),
                classify,
            )
        except ProviderError as error:
            # MessageNotReceivedError: every one refused, each with its own code.
            cause = error.__cause__
            if isinstance(cause, MessageNotReceivedError):
                return {**dict.fromkeys(by_id, error), **self._refused(cause.failed_messages, by_id)}
            return dict.fromkeys(by_id, error)
        outcomes: dict[str, Accepted | ProviderError] = self._refused(answer.failed_message_list or [], by_id)
        group_id = answer.group_info.group_id
        for item in answer.message_list or []:
            ours = (item.custom_fields or {}).get(CUSTOM_FIELD)
            if ours in by_id:
                outcomes[ours] = self._accepted(item.message_id, item.status_code, by_id[ours], group_id)
        missing = ProviderError(False, UNKNOWN_OUTCOME, "not in SOLAPI's answer", NAME)
        return {mid: outcomes.get(mid, missing) for mid in by_id}

    @staticmethod
    def _refused(
        failed: Sequence[FailedMessage], by_id: dict[str, _Prepared]
    ) -> dict[str, Accepted | ProviderError]:
        outcomes: dict[str, Accepted | ProviderError] = {}
        for item in failed:
            ours = (item.custom_fields or {}).get(CUSTOM_FIELD)
            if ours in by_id:
                outcomes[ours] = refusal(str(item.status_code), str(item.status_message))
        return outcomes

    @staticmethod
    def _accepted(provider_id: str, status: str, prepared: _Prepared, group_id: str) -> Accepted:
        return Accepted(
            NAME,
            str(provider_id),
            extra={"status": str(status), "type": prepared.kr_class.value, "group_id": str(group_id)},
        )

    def send_alimtalk(self, request: AlimtalkRequest) -> Accepted:
        """Send one KakaoTalk AlimTalk with SOLAPI's SMS/LMS fallback on (see ``solapi_kakao``)."""
        try:
            sender, to = _domestic_sender(request.sender), domestic_number(request.to)
        except (ValueError, phonenumbers.NumberParseException) as exc:
            raise ProviderError(False, "not_domestic", str(exc), NAME) from exc
        fallback = request.fallback_text
        subject = lms_subject(fallback) if kr_class(cp949_bytes(fallback)) is KrClass.LMS else None
        body = alimtalk_body(request, sender, to, {CUSTOM_FIELD: request.message_id}, subject)

        def call() -> Accepted:
            answer = post_send_many(self.service, body)
            for failed in answer.failed_message_list or []:
                raise refusal(str(failed.status_code), str(failed.status_message))
            for item in answer.message_list or []:
                group = str(answer.group_info.group_id)
                return Accepted(
                    NAME,
                    str(item.message_id),
                    extra={"status": str(item.status_code), "type": "ATA", "group_id": group},
                )
            raise ProviderError(False, UNKNOWN_OUTCOME, "the answer lists no message", NAME)

        return provider_call(NAME, "send-many/detail (alimtalk)", request.message_id, call, classify)

    def find_sent(self, request: SmsRequest, since: datetime) -> str | None:
        """Return SOLAPI's id of a message to this number from this sender with this text, if any."""
        try:
            sender, to = _domestic_sender(request.sender), domestic_number(request.to)
        except (ValueError, phonenumbers.NumberParseException):
            return None  # never sendable through SOLAPI, so never sent

        def call() -> str | None:
            query = GetMessagesRequest(
                from_=sender,
                to=to,
                limit=FIND_PAGE_SIZE,
                date_type="CREATED",
                # A minute of slack for clocks that disagree; the SDK rewrites it as ISO 8601.
                start_date=(since - timedelta(minutes=1)).isoformat(),
            )
            for _ in range(FIND_MAX_PAGES):
                page = self.service.get_messages(query)
                for provider_id, listed in page.message_list.items():
                    ours = (listed.custom_fields or {}).get(CUSTOM_FIELD)
                    if listed.text == request.body and ours in (None, request.message_id):
                        return str(provider_id)
                if not page.next_key:
                    return None
                query = query.model_copy(update={"start_key": page.next_key})
            return None

        return provider_call(NAME, "messages/list", request.message_id, call, classify)
