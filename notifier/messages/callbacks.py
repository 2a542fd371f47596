"""The providers' status callbacks: a status only moves forward."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from notifier.context import Context
from notifier.domain.message_status import (
    DELIVERED_VIA,
    SOLAPI_DELIVERED,
    SOLAPI_IN_PROGRESS,
    TWILIO_STATUS,
    Status,
)
from notifier.messages import repository as repo
from notifier.messages.model import Message
from notifier.messages.outcomes import TWILIO_ERROR_REASONS


def apply_twilio_status(ctx: Context, message_id: str | None, params: dict[str, str]) -> bool:
    """Apply one Twilio status callback; a late or backwards status is ignored."""
    new = TWILIO_STATUS.get(params.get("MessageStatus", ""))
    if new is None:
        return False
    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    now = ctx.clock()
    with ctx.engine.begin() as conn:
        row = repo.get(conn, message_id) if message_id else repo.find_by_provider_id(conn, sid)
        message = Message.from_row(row) if row is not None else None
        if message is None or (message.provider_message_id and sid and message.provider_message_id != sid):
            return False
        fields: dict[str, Any] = {  # the columns this callback sets
            "provider_message_id": sid or message.provider_message_id,
            "provider": "twilio",
        }
        if new is Status.FAILED:
            code = params.get("ErrorCode") or "undelivered"
            fields.update(
                error_code=code, error_reason=TWILIO_ERROR_REASONS.get(code, params.get("MessageStatus"))
            )
        return repo.transition(
            conn, message.id, new, now, detail=f"twilio: {params.get('MessageStatus')}", **fields
        )


@dataclass(frozen=True)
class SolapiReport:
    """One message's delivery report from SOLAPI (its webhook's ``data``)."""

    message_id: str  # SOLAPI's
    type: str  # ATA, SMS, LMS...
    status_code: str
    status_message: str = ""
    notifier_id: str | None = None  # ours, from the message's customFields (solapi.CUSTOM_FIELD)
    fallback_disabled: bool = True  # kakaoOptions.disableSms of an AlimTalk


def apply_solapi_report(ctx: Context, report: SolapiReport) -> bool:
    """Apply one SOLAPI delivery report; a late, backwards or unknown one changes nothing.

    An AlimTalk that did not reach the person while its SMS/LMS fallback (대체발송) is on only
    adds a history entry: SOLAPI sends the fallback as a second message of its own, with our
    id in the same custom field, and that message's report settles ours (``delivered_via``).
    """
    if report.status_code in SOLAPI_IN_PROGRESS:
        return False
    now = ctx.clock()
    with ctx.engine.begin() as conn:
        row = repo.get(conn, report.notifier_id) if report.notifier_id else None
        row = row or repo.find_by_provider_id(conn, report.message_id)
        message = Message.from_row(row) if row is not None else None
        if message is None or not _reports_on(message, report):
            return False
        label = f"solapi: {report.type} {report.status_code} {report.status_message}".strip()
        if report.status_code == SOLAPI_DELIVERED:
            return repo.transition(
                conn,
                message.id,
                Status.DELIVERED,
                now,
                detail=label + (" (SMS/LMS fallback)" if _is_fallback(message, report) else ""),
                provider="solapi",
                provider_message_id=message.provider_message_id or report.message_id,
                delivered_via=DELIVERED_VIA.get(report.type),
            )
        if report.type == "ATA" and not report.fallback_disabled:
            if message.status.is_final:
                return False
            repo.note(conn, message.id, message.status, now, f"{label}; SOLAPI sends the SMS/LMS fallback")
            return True
        return repo.transition(
            conn,
            message.id,
            Status.FAILED,
            now,
            detail=label,
            provider="solapi",
            provider_message_id=message.provider_message_id or report.message_id,
            error_code=report.status_code,
            error_reason=report.status_message or None,
        )


def _is_fallback(message: Message, report: SolapiReport) -> bool:
    return message.channel == "kakao" and report.type in ("SMS", "LMS")


def _reports_on(message: Message, report: SolapiReport) -> bool:
    """Tell whether ``report`` is about ``message``: its own SOLAPI id, or its AlimTalk's fallback."""
    if message.provider is not None and message.provider != "solapi":
        return False
    if message.provider_message_id in (None, report.message_id):
        return True
    return _is_fallback(message, report)
