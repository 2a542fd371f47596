"""The interface every channel implements, and the one wrapper around provider calls."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from typing import Protocol, TypeVar

from notifier.errors import ProviderError

log = logging.getLogger("notifier.provider")
T = TypeVar("T")


@dataclass(frozen=True)
class SmsRequest:
    message_id: str
    to: str
    sender: str
    body: str
    status_callback: str | None = None


@dataclass(frozen=True)
class AlimtalkRequest:
    """A KakaoTalk AlimTalk with its SMS/LMS fallback (대체발송) from ``sender``."""

    message_id: str
    to: str
    sender: str  # the centre's registered number: the fallback goes from it
    body: str  # the approved text with its values
    pf_id: str
    template_id: str
    variables: dict[str, str]  # "#{변수}" -> value
    buttons: tuple[dict[str, str], ...] = ()  # {"name", "type", "link"}
    fallback_text: str = ""  # the template's SMS text, sent as SMS/LMS when the AlimTalk cannot be


@dataclass(frozen=True)
class Accepted:
    """What a provider said when it took a message."""

    provider: str
    provider_message_id: str
    sandboxed: bool = False
    extra: dict[str, str] = field(default_factory=dict)


class SmsSender(Protocol):
    name: str

    def send(self, request: SmsRequest) -> Accepted: ...

    def find_sent(self, request: SmsRequest, since: datetime) -> str | None:
        """Return the provider id of a message already accepted, if the provider can tell."""
        ...


class AlimtalkSender(Protocol):
    name: str

    def send_alimtalk(self, request: AlimtalkRequest) -> Accepted: ...

    def find_sent(self, request: SmsRequest, since: datetime) -> str | None:
        """Return the provider id of a message already accepted, if the provider can tell."""
        ...


class EmailBatch(Protocol):
    def send(self, message_id: str, email: EmailMessage) -> Accepted: ...


class EmailSender(Protocol):
    name: str

    def batch(self) -> AbstractContextManager[EmailBatch]:
        """Open one connection for any number of sends."""
        ...


def provider_call(
    provider: str,
    operation: str,
    message_id: str,
    call: Callable[[], T],
    classify: Callable[[Exception], ProviderError],
) -> T:
    """Run one provider call: time it, log the outcome, and turn failures into ProviderError."""
    started = time.perf_counter()
    try:
        result = call()
    except ProviderError as known:
        _log_failure(provider, operation, message_id, started, known)
        raise
    except Exception as exc:  # every provider failure becomes one ProviderError
        classified = classify(exc)
        classified.provider = classified.provider or provider
        _log_failure(provider, operation, message_id, started, classified)
        raise classified from exc
    log.info(
        "provider call ok",
        extra={
            "provider": provider,
            "operation": operation,
            "message_id": message_id,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )
    return result


def _log_failure(
    provider: str, operation: str, message_id: str, started: float, error: ProviderError
) -> None:
    log.warning(
        "provider call failed",
        extra={
            "provider": provider,
            "operation": operation,
            "message_id": message_id,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            "retryable": error.retryable,
            "code": error.code,
            "reason": error.message,
        },
    )
