"""Tables of the recipient feature (same metadata as notifier.storage.tables).

``recipients`` holds a client's contact list (one row per owner and external id). Erasing a
recipient empties every personal column and keeps the row as a tombstone (``erased_at``), so a
repeated DELETE stays a 204. ``opt_outs`` never holds an address: only an HMAC of it, so an
opt-out keeps blocking after the recipient's personal data is gone. ``opt_out_links`` is what an
unsubscribe link's opaque token stands for (``consent.opt_out_links``): the link carries no
personal data, the row does, and erasing a recipient deletes the owner's rows for that address.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, Index, String, Table, UniqueConstraint

from notifier.storage.metadata import metadata
from notifier.storage.types import UTCDateTime

CONSENT_KINDS = ("sms_advertising", "email_advertising", "night_advertising")

recipients = Table(
    "recipients",
    metadata,
    Column("owner", String(100), primary_key=True),
    Column("external_id", String(100), primary_key=True),
    Column("name", String(100)),
    Column("phone", String(20)),
    Column("email", String(320)),
    Column("locale", String(10)),
    Column("center", String(50)),
    Column("tags", JSON),
    *(
        Column(f"{kind}_{stamp}", UTCDateTime())
        for kind in CONSENT_KINDS
        for stamp in ("given_at", "reconfirmed_at")
    ),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("erased_at", UTCDateTime()),
    Index("ix_recipients_owner_phone", "owner", "phone"),
    Index("ix_recipients_owner_email", "owner", "email"),
)

opt_outs = Table(
    "opt_outs",
    metadata,
    Column("id", String(36), primary_key=True),
    # HMAC-SHA256 of the normalised address (see notifier.consent.opt_outs.address_hash).
    Column("address_hash", String(64), nullable=False),
    Column("channel", String(10), nullable=False),
    Column("scope", String(20), nullable=False),
    Column("source", String(30), nullable=False),
    Column("recorded_by", String(100)),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("address_hash", "scope"),
)

opt_out_links = Table(
    "opt_out_links",
    metadata,
    # An HMAC of the other columns, keyed by the secret key: 160 bits, base64url (see opt_out_links).
    Column("token", String(64), primary_key=True),
    Column("owner", String(100), nullable=False),
    Column("channel", String(10), nullable=False),
    Column("address", String(320), nullable=False),  # normalised: E.164 or lower-cased email
    Column("scope", String(20), nullable=False),
    Column("center", JSON),  # the sending centre's name and phone, shown on the unsubscribe page
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_opt_out_links_owner_address", "owner", "address"),
)
