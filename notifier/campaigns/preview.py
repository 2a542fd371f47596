"""What a campaign's recipient receives, before anything is sent: its first recipient's message
rendered for each channel the campaign may use, with the (광고) marking and the opt-out line
applied exactly as the bulk worker applies them (``render.render_for`` with ``estimate``: a
sample unsubscribe link of the real length, nothing stored)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import RowMapping

from notifier.campaigns import repository as campaign_repo
from notifier.campaigns.render import RENDER_ERRORS, render_for
from notifier.context import Context
from notifier.messages.accept import Recipient
from notifier.templates import repository as template_repo

SAMPLE_PHONE = "+821000000000"
SAMPLE_EMAIL = "preview@example.invalid"


@dataclass(frozen=True)
class ChannelPreview:
    channel: str
    body: str
    subject: str | None = None
    html: str | None = None
    sms: dict[str, Any] | None = None  # SmsSize.as_dict(): class, bytes, segments, encoding
    problem: str | None = None  # why this channel cannot be rendered for the first recipient


def campaign_preview(ctx: Context, row: RowMapping) -> list[ChannelPreview]:
    """The first recipient's message on each channel the campaign may use."""
    with ctx.engine.connect() as conn:
        version = template_repo.get(conn, row["template_key"], row["template_version"])
        first = campaign_repo.first_recipient(conn, row["id"])
    if version is None:
        return []
    name, locale = (first.name, first.locale) if first else ("", "ko")
    data = {**row["data"], **(first.data if first else {})}
    channels = ("sms", "email") if row["channel"] == "auto" else (row["channel"],)
    shown = []
    for channel in channels:
        if not version.has_channel(channel, version.locale_for(locale)):
            continue
        recipient = Recipient(
            SAMPLE_PHONE if channel == "sms" else None,
            SAMPLE_EMAIL if channel == "email" else None,
            name,
            locale,
        )
        try:
            rendered, _ = render_for(
                ctx,
                version,
                owner=row["owner"],
                category=row["category"],
                opt_out_number=row["opt_out_number"],
                center=dict(row["center"]),
                channel=channel,
                recipient=recipient,
                data=dict(data),
                estimate=True,
            )
        except (*RENDER_ERRORS, ValueError) as exc:
            shown.append(ChannelPreview(channel, "", problem=str(exc)[:500]))
            continue
        sms = rendered.sms.as_dict() if rendered.sms is not None else None
        shown.append(ChannelPreview(channel, rendered.body, rendered.subject, rendered.html, sms))
    return shown
