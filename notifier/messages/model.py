"""A message as the worker carries it: one typed row of the ``messages`` table.

The claim builds one ``Message`` per message it wins; sending, the rate limit, the outcomes
and the provider callbacks read its attributes. Features that register claim checks and the
campaign render hook still take mappings (``context.Row``); ``claims`` converts at that edge.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import RowMapping

from notifier.domain.message_status import Status

# In a message's data: what SOLAPI needs for an AlimTalk (pf_id, template_id, variables,
# buttons) and its SMS/LMS fallback (fallback_text, fallback_class), set when it is rendered.
ALIMTALK_KEY = "_alimtalk"


@dataclass(frozen=True, slots=True)
class Message:
    """One row of ``messages``; the fields are its columns, in the table's order."""

    id: str
    owner: str
    template_key: str
    template_version: int
    channel: str  # "sms" or "email"
    locale: str
    purpose: str
    category: str
    lane: str
    to_phone: str | None
    to_email: str | None
    to_name: str
    sender: str
    center: dict[str, str]  # the centre's identity as stored with the message (name, reply_to...)
    center_code: str | None  # the registered centre's code in ``center`` (None: not a registered one)
    data: dict[str, Any]  # the client's JSON template data, plus the service's own "_headers"
    subject: str | None
    body: str | None  # None until a campaign message is rendered during its claim
    html: str | None
    attachments: list[dict[str, str]] | None  # filename, content_type, data
    segments: int | None
    kr_class: str | None
    status: Status
    reference: str | None
    send_at: datetime
    expires_at: datetime | None
    enqueued_at: datetime | None
    claimed_at: datetime | None
    attempts: int
    provider: str | None
    provider_message_id: str | None
    error_code: str | None
    error_reason: str | None
    sandboxed: bool
    delivered_via: str | None  # kakao, sms or lms, once SOLAPI reported it
    appointment_id: str | None
    appointment_revision: int | None
    campaign_id: str | None
    created_at: datetime
    updated_at: datetime

    @property
    def alimtalk(self) -> dict[str, Any]:
        """An AlimTalk's content as rendered (empty for other channels)."""
        return dict((self.data or {}).get(ALIMTALK_KEY) or {})

    @property
    def fallback_text(self) -> str | None:
        """An AlimTalk's fallback: the template's SMS text SOLAPI sends when the AlimTalk cannot go.

        None for other channels, and for an AlimTalk accepted before the fallback was rendered
        (SOLAPI's fallback then carries the AlimTalk text).
        """
        return self.alimtalk.get("fallback_text") or None

    @classmethod
    def from_row(cls, row: RowMapping) -> Message:
        """Build a message from a row of the ``messages`` table as the database returned it."""
        return cls(**{**row, "status": Status(row["status"])})
