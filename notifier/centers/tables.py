"""The centre registry."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    String,
    Table,
)

from notifier.storage.metadata import metadata
from notifier.storage.types import UTCDateTime

centers = Table(
    "centers",
    metadata,
    Column("code", String(50), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("phone", String(20), nullable=False),
    Column("address", String(300)),
    Column("sms_sender", String(20), nullable=False),
    Column("email_sender", String(320)),
    Column("reply_to", String(320)),
    Column("timezone", String(50), nullable=False),
    Column("reminder_offsets", String(100)),
    Column("quiet_hours", String(20)),
    # provider name -> the E.164 numbers the centre registered with it (발신번호 사전등록)
    Column("sender_numbers", JSON),
    Column("kakao_pf_id", String(100)),  # the centre's KakaoTalk channel (발신 프로필)
    Column("updated_at", UTCDateTime(), nullable=False),
)
