"""The public JSON shape of messages, one or a page at a time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import RowMapping

from notifier.context import Context
from notifier.domain.status import Status
from notifier.errors import (
    FieldError,
    NotFound,
    ValidationFailed,
)
from notifier.messages import repository as repo


def get_message(ctx: Context, owner: str, message_id: str) -> dict[str, Any]:
    with ctx.engine.connect() as conn:
        row = repo.get(conn, message_id)
        if row is None or row["owner"] != owner:
            raise NotFound(f"no message {message_id}")
        return message_view(row, repo.history(conn, message_id))


def message_view(row: Any, history: list[RowMapping] | None = None) -> dict[str, Any]:
    """The public JSON shape of a message."""
    view: dict[str, Any] = {
        "id": row["id"],
        "status": row["status"],
        "channel": row["channel"],
        "purpose": row["purpose"],
        "template": {"key": row["template_key"], "version": row["template_version"]},
        "to": {"phone": row["to_phone"], "email": row["to_email"], "name": row["to_name"]},
        "locale": row["locale"],
        "reference": row["reference"],
        "send_at": _iso(row["send_at"]),
        "created_at": _iso(row["created_at"]),
        "segments": row["segments"],
        "kr_class": row["kr_class"],
        "sandboxed": bool(row["sandboxed"]),
        "provider_message_id": row.get("provider_message_id"),
        "error": (
            {"code": row["error_code"], "reason": row["error_reason"]}
            if row.get("error_code") and row["status"] == Status.FAILED.value
            else None
        ),
    }
    if history is not None:
        view["history"] = [
            {"status": h["status"], "at": _iso(h["at"]), "detail": h["detail"]} for h in history
        ]
    return view


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def list_messages(
    ctx: Context, owner: str, *, status: str | None, reference: str | None, limit: int, cursor: str | None
) -> dict[str, Any]:
    after = decode_cursor(cursor) if cursor else None
    with ctx.engine.connect() as conn:
        rows = repo.page(conn, owner, status=status, reference=reference, limit=limit + 1, after=after)
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1]["created_at"], rows[-1]["id"]) if more and rows else None
    return {"items": [message_view(r) for r in rows], "next_cursor": next_cursor}


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
