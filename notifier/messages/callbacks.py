"""The providers' status callbacks: a status only moves forward."""

from __future__ import annotations

from typing import Any

from notifier.context import Context
from notifier.domain.message_status import TWILIO_STATUS, Status
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
