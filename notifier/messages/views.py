"""The public JSON shape of messages, one or a page at a time."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field
from sqlalchemy.engine import RowMapping

from notifier.context import Context
from notifier.domain.message_status import Status
from notifier.errors import (
    FieldError,
    NotFound,
    ValidationFailed,
)
from notifier.messages import repository as repo
from notifier.responses import ResponseModel, Timestamp


def get_message(ctx: Context, owner: str, message_id: str) -> dict[str, Any]:
    with ctx.engine.connect() as conn:
        row = repo.get(conn, message_id)
        if row is None or row["owner"] != owner:
            raise NotFound(f"no message {message_id}")
        return message_view(row, repo.history(conn, message_id))


class TemplateRef(ResponseModel):
    key: str
    version: int


class MessageTo(ResponseModel):
    phone: str | None = Field(description="E.164")
    email: str | None
    name: str


class MessageError(ResponseModel):
    code: str
    reason: str | None


class HistoryEntry(ResponseModel):
    status: str
    at: Timestamp | None
    detail: str | None


class Message(ResponseModel):
    """A message; ``history`` only when one message is asked for."""

    id: str = Field(json_schema_extra={"format": "uuid"})
    status: Status
    channel: Literal["sms", "kakao", "email"]
    purpose: str
    template: TemplateRef
    to: MessageTo
    locale: str
    reference: str | None
    send_at: Timestamp | None
    created_at: Timestamp | None
    segments: int | None = Field(description="Twilio segments (SMS)")
    kr_class: Literal["SMS", "LMS"] | None
    sandboxed: bool
    provider: str | None = Field(
        description="The provider the message was sent (or last attempted) through: "
        "solapi, twilio, smtp, or sandbox when nothing leaves the machine; null before the first attempt"
    )
    provider_message_id: str | None
    delivered_via: Literal["kakao", "sms", "lms"] | None = Field(
        default=None, description="what reached the person, as SOLAPI reported it (AlimTalk or its fallback)"
    )
    error: MessageError | None
    history: list[HistoryEntry] = Field(default_factory=list)


class MessageList(ResponseModel):
    items: list[Message]
    next_cursor: str | None


def message_view(row: Any, history: list[RowMapping] | None = None) -> dict[str, Any]:
    """The public JSON shape of a message."""
    return message_model(row, history).dump()


def message_model(row: Any, history: list[RowMapping] | None = None) -> Message:
    """The message as its response model; ``history`` is left out when None."""
    fields: dict[str, Any] = dict(
        id=row["id"],
        status=row["status"],
        channel=row["channel"],
        purpose=row["purpose"],
        template=TemplateRef(key=row["template_key"], version=row["template_version"]),
        to=MessageTo(phone=row["to_phone"], email=row["to_email"], name=row["to_name"]),
        locale=row["locale"],
        reference=row["reference"],
        send_at=row["send_at"] or None,
        created_at=row["created_at"] or None,
        segments=row["segments"],
        kr_class=row["kr_class"],
        sandboxed=bool(row["sandboxed"]),
        provider=row.get("provider"),
        provider_message_id=row.get("provider_message_id"),
        delivered_via=row.get("delivered_via"),
        error=(
            MessageError(code=row["error_code"], reason=row["error_reason"])
            if row.get("error_code") and row["status"] == Status.FAILED.value
            else None
        ),
    )
    if history is not None:
        fields["history"] = [
            HistoryEntry(status=h["status"], at=h["at"], detail=h["detail"]) for h in history
        ]
    return Message(**fields)


def list_messages(
    ctx: Context, owner: str, *, status: str | None, reference: str | None, limit: int, cursor: str | None
) -> dict[str, Any]:
    after = decode_cursor(cursor) if cursor else None
    with ctx.engine.connect() as conn:
        rows = repo.page(conn, owner, status=status, reference=reference, limit=limit + 1, after=after)
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1]["created_at"], rows[-1]["id"]) if more and rows else None
    return MessageList(items=[message_model(r) for r in rows], next_cursor=next_cursor).dump()


def encode_cursor(created: datetime, message_id: str) -> str:
    import base64

    return base64.urlsafe_b64encode(f"{created.isoformat()}|{message_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    import base64

    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created, message_id = raw.split("|", 1)
        when = datetime.fromisoformat(created)
        if when.tzinfo is None:
            raise ValueError("naive time in cursor")
        return when, message_id
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed([FieldError("/cursor", "not a cursor this API returned")]) from exc
