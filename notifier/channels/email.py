"""Build RFC 5322 messages: UTF-8, multipart/alternative, Korean names encoded per RFC 2047."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # e.g. "text/calendar; method=REQUEST"
    data: bytes


def build_email(
    *,
    message_id: str,
    sender: str,
    sender_name: str,
    to: str,
    to_name: str,
    subject: str,
    text: str,
    html: str | None,
    now: datetime,
    reply_to: str | None = None,
    headers: Mapping[str, str] | None = None,
    attachments: Sequence[Attachment] = (),
) -> EmailMessage:
    """Build one email with a stable Message-ID derived from our message id."""
    email = EmailMessage(policy=SMTP)
    email["From"] = _address(sender_name, sender)
    email["To"] = _address(to_name, to)
    if reply_to:
        email["Reply-To"] = reply_to
    email["Subject"] = subject
    email["Date"] = format_datetime(now)
    domain = sender.rpartition("@")[2] or "localhost"
    # Stable, so a resend after a crash is recognised by mail clients as the same message.
    email["Message-ID"] = f"<{message_id}@{domain}>"
    for name, value in (headers or {}).items():
        email[name] = value
    email.set_content(text, subtype="plain", charset="utf-8")
    if html is not None:
        email.add_alternative(html, subtype="html", charset="utf-8")
    for item in attachments:
        maintype, _, rest = item.content_type.partition("/")
        subtype, _, params = rest.partition(";")
        extra = dict(p.strip().partition("=")[::2] for p in params.split(";") if p.strip())
        email.add_attachment(
            item.data, maintype=maintype, subtype=subtype.strip(), filename=item.filename, params=extra
        )
    return email


def _address(name: str, addr: str) -> Address:
    display, plain = parseaddr(addr)
    local, _, domain = (plain or addr).partition("@")
    return Address(display_name=name or display, username=local, domain=domain)
