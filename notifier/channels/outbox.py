"""The outbox: where messages go when no provider is configured.

Nothing leaves the machine; each message is stored and shown at ``/outbox``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from email.message import EmailMessage

from sqlalchemy import Column, Engine, Integer, String, Table, Text, select

from notifier.channels.base import Accepted, SmsRequest
from notifier.storage.metadata import metadata
from notifier.storage.types import UTCDateTime

NAME = "sandbox"

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("message_id", String(36), nullable=False),
    Column("channel", String(10), nullable=False),
    Column("recipient", String(320), nullable=False),
    Column("sender", String(320), nullable=False),
    Column("subject", Text),
    Column("body", Text, nullable=False),
    Column("html", Text),
    Column("created_at", UTCDateTime(), nullable=False),
)


class OutboxSender:
    """Stores SMS and email in the outbox table instead of sending them."""

    name = NAME

    def __init__(self, engine: Engine, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.clock = clock

    def _store(
        self, message_id: str, channel: str, recipient: str, sender: str, **content: str | None
    ) -> Accepted:
        with self.engine.begin() as conn:
            conn.execute(
                outbox.insert().values(
                    message_id=message_id,
                    channel=channel,
                    recipient=recipient,
                    sender=sender,
                    created_at=self.clock(),
                    **content,
                )
            )
        return Accepted(NAME, f"sandbox-{uuid.uuid4().hex}", sandboxed=True)

    def send(self, request: SmsRequest) -> Accepted:
        return self._store(request.message_id, "sms", request.to, request.sender, body=request.body)

    def find_sent(self, request: SmsRequest, since: datetime) -> str | None:
        with self.engine.connect() as conn:
            found = conn.execute(select(outbox.c.id).where(outbox.c.message_id == request.message_id)).first()
        return f"sandbox-outbox-{found[0]}" if found else None

    @contextmanager
    def batch(self) -> Iterator[OutboxEmailBatch]:
        yield OutboxEmailBatch(self)


class OutboxEmailBatch:
    def __init__(self, sender: OutboxSender) -> None:
        self.sender = sender

    def send(self, message_id: str, email: EmailMessage) -> Accepted:
        text = email.get_body(("plain",))
        html = email.get_body(("html",))
        return self.sender._store(
            message_id,
            "email",
            str(email["To"]),
            str(email["From"]),
            subject=str(email["Subject"]),
            body=text.get_content() if text is not None else "",
            html=html.get_content() if html is not None else None,
        )
