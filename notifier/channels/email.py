"""Build RFC 5322 messages: UTF-8, multipart/alternative, Korean names encoded per RFC 2047.

Two kinds of header are written by this module rather than by the standard library's folder:

- a mailbox (``From``, ``To``): ``email.policy.SMTP`` moves a whole mailbox whose encoded
  display name does not fit after the header name onto the next line, which leaves a first
  line holding nothing but ``From:``. Here the display name is encoded into RFC 2047 words
  that start on the header's own line (split between whole characters, each line at most
  ``max_line_length``), and the address follows on the same line or the next;
- ``List-Unsubscribe`` and ``List-Unsubscribe-Post``: the standard folder turns a long,
  space-less value into an RFC 2047 encoded word to be able to fold it, which no mail client
  reads as a URL (RFC 2369, RFC 8058 want ``<https://...>``). These values are ASCII we make
  ourselves and are written unfolded on one line (RFC 5322 allows up to 998 characters).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.header import Header
from email.headerregistry import (
    Address,
    BaseHeader,
    HeaderRegistry,
    UniqueAddressHeader,
    UniqueUnstructuredHeader,
)
from email.message import EmailMessage
from email.policy import SMTP, Policy
from email.utils import format_datetime, formataddr, parseaddr

# RFC 5322 section 2.1.1: a line, without its CRLF, must not be longer than this.
MAX_LINE = 998
VERBATIM_HEADERS = ("list-unsubscribe", "list-unsubscribe-post")


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # e.g. "text/calendar; method=REQUEST"
    data: bytes


# BaseHeader is named as a base only for the type checker (the registry mixes it in anyway);
# typeshed types the header mixins apart from it, hence the ignores.
class MailboxHeader(UniqueAddressHeader, BaseHeader):  # type: ignore[misc]
    """``From`` or ``To`` holding one mailbox, folded without an empty first line."""

    def fold(self, *, policy: Policy) -> str:
        """Write ``Name: display-name <addr>``, the display name encoded from the first line on."""
        if len(self.addresses) != 1:
            return super().fold(policy=policy)
        return fold_mailbox(self.name, self.addresses[0], policy)


class VerbatimHeader(UniqueUnstructuredHeader, BaseHeader):  # type: ignore[misc]
    """A header whose ASCII value is written exactly as given, on one line."""

    def fold(self, *, policy: Policy) -> str:
        """Write ``Name: value`` unchanged."""
        value = str(self)
        if not value.isascii() or len(self.name) + 2 + len(value) > MAX_LINE:
            raise ValueError(f"{self.name} must be ASCII and fit on one line")
        return f"{self.name}: {value}{policy.linesep}"


def fold_mailbox(name: str, address: Address, policy: Policy) -> str:
    """Fold one mailbox header the way ``email.policy.SMTP`` should: never an empty first line."""
    limit = policy.max_line_length or MAX_LINE
    display, angle = address.display_name, f"<{address.addr_spec}>"
    if not display:
        return f"{name}: {address.addr_spec}{policy.linesep}"
    if display.isascii():
        lines = [f"{name}: {formataddr((display, address.addr_spec))}"]
        if len(lines[0]) <= limit:
            return lines[0] + policy.linesep
        lines = [f"{name}: {formataddr((display, address.addr_spec)).removesuffix(' ' + angle)}"]
    else:
        encoded = Header(display, "utf-8", maxlinelen=limit, header_name=name).encode(linesep="\n")
        lines = f"{name}: {encoded}".split("\n")
    if len(lines[-1]) + 1 + len(angle) <= limit:
        lines[-1] += f" {angle}"
    else:
        lines.append(f" {angle}")
    return policy.linesep.join(lines) + policy.linesep


def _header_registry() -> HeaderRegistry:
    registry = HeaderRegistry()
    registry.map_to_type("from", MailboxHeader)
    registry.map_to_type("to", MailboxHeader)
    for name in VERBATIM_HEADERS:
        registry.map_to_type(name, VerbatimHeader)
    return registry


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
    email = EmailMessage(policy=SMTP.clone(header_factory=_header_registry()))
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
        if name.lower() in VERBATIM_HEADERS and not (
            value.isascii() and len(name) + 2 + len(value) <= MAX_LINE
        ):
            raise ValueError(f"{name} must be ASCII and fit on one line")  # refused now, not at send
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
