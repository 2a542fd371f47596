"""Sending one claimed message and recording what the provider said."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from notifier.channels.base import Accepted, SmsRequest
from notifier.channels.email import Attachment, build_email
from notifier.context import Context
from notifier.domain.status import Status
from notifier.errors import (
    ProviderError,
)
from notifier.messages.claims import claim_many
from notifier.messages.outcomes import Outcome, Outcomes


def claim(ctx: Context, message_id: str) -> dict[str, Any] | None:
    """Move a queued message to ``sending``; return it only if this caller won the claim."""
    claimed = claim_many(ctx, [message_id])
    return claimed[0] if claimed else None


def status_callback_url(ctx: Context, message_id: str) -> str:
    return f"{ctx.settings.public_url}/webhooks/twilio/status?message_id={message_id}"


def send_sms(ctx: Context, row: Mapping[str, Any]) -> Accepted:
    request = SmsRequest(
        message_id=row["id"],
        to=row["to_phone"],
        sender=row["sender"],
        body=row["body"],
        status_callback=None if ctx.sms_sandboxed else status_callback_url(ctx, row["id"]),
    )
    return ctx.sms.send(request)


def email_for(ctx: Context, row: Mapping[str, Any]) -> Any:
    center = row["center"] or {}
    return build_email(
        message_id=row["id"],
        sender=row["sender"],
        sender_name=center.get("name", ""),
        to=row["to_email"],
        to_name=row["to_name"],
        subject=row["subject"] or "",
        text=row["body"] or "",
        html=row["html"],
        now=ctx.clock(),
        reply_to=center.get("reply_to"),
        headers=service_headers(row["data"]),
        attachments=[
            Attachment(a["filename"], a["content_type"], a["data"].encode()) for a in row["attachments"] or ()
        ],
    )


SERVICE_HEADERS = ("List-Unsubscribe", "List-Unsubscribe-Post")


def service_headers(data: dict[str, Any] | None) -> dict[str, str]:
    """Headers the service itself set on a message (never a client's): the unsubscribe pair."""
    given = (data or {}).get("_headers") or {}
    return {name: str(given[name]) for name in SERVICE_HEADERS if isinstance(given, dict) and name in given}


def deliver(ctx: Context, message_id: str) -> Outcome:
    """Send one message at most once. Safe to call any number of times for the same id."""
    row = claim(ctx, message_id)
    if row is None:
        return Outcome("skipped")
    try:
        if row["channel"] == "sms":
            accepted = send_sms(ctx, row)
        else:
            email = build_or_fail(ctx, row)
            if email is None:
                return Outcome(Status.FAILED.value)
            with ctx.email.batch() as batch:
                accepted = batch.send(row["id"], email)
    except ProviderError as error:
        return record_failure(ctx, row, error)
    record_accepted(ctx, row["id"], accepted, claimed_at=row["claimed_at"])
    return Outcome(Status.SENT.value)


def build_or_fail(ctx: Context, row: Mapping[str, Any]) -> Any:
    """Build the email, or fail the message for good if its stored content cannot make one."""
    try:
        return email_for(ctx, row)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        record_failure(ctx, row, ProviderError(False, "build_error", f"{type(exc).__name__}: {exc}", "email"))
        return None


def record_accepted(
    ctx: Context, message_id: str, accepted: Accepted, claimed_at: datetime | None = None
) -> None:
    """Record that the provider took the message, if the claim is still this worker's."""
    outcomes = Outcomes(ctx)
    outcomes.accepted({"id": message_id, "claimed_at": claimed_at}, accepted)
    outcomes.record()


def record_failure(ctx: Context, row: Mapping[str, Any], error: ProviderError) -> Outcome:
    """Retry later, fail for good, or (outcome unknown) leave it to recovery to ask the provider."""
    outcomes = Outcomes(ctx)
    outcome = outcomes.failed(row, error)
    outcomes.record()
    return outcome
