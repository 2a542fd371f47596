"""Request bodies, validated with pydantic. The API turns their errors into JSON pointers."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    field_validator,
)

MAX_SCHEDULE_AHEAD = timedelta(days=366)
Locale = Field(default="ko", pattern=r"^[a-z]{2}(-[A-Z]{2})?$")
# The database's 32-bit integer columns (a client's appointment version, for one).
MAX_INT32 = 2**31 - 1
# Times the API accepts: ISO 8601 with a date, a time and an offset, between 1970 and 2999.
# Unix timestamps are refused (``"1800000000"`` is not a time a person wrote down), and so are
# years a calendar program, PostgreSQL or a conversion to UTC cannot hold.
TIMESTAMP_PATTERN = (
    r"^(19[7-9][0-9]|2[0-9]{3})-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
    r"([Zz]|[+-][0-9]{2}:?[0-9]{2})$"
)
_TIMESTAMP = re.compile(TIMESTAMP_PATTERN)
EARLIEST = datetime(1970, 1, 2, tzinfo=UTC)
LATEST = datetime(2999, 12, 30, tzinfo=UTC)


def _iso_8601_text(value: Any) -> Any:
    if isinstance(value, datetime):  # a model built in code, not from a request
        return value
    if not isinstance(value, str) or not _TIMESTAMP.match(value):
        raise ValueError("must be an ISO 8601 time with an offset, e.g. 2026-12-03T14:00:00+09:00")
    return value


def _within_calendar(value: datetime) -> datetime:
    if not EARLIEST <= value <= LATEST:
        raise ValueError("must be between 1970 and 2999")
    return value


IsoTime = Annotated[
    AwareDatetime,
    BeforeValidator(_iso_8601_text),
    AfterValidator(_within_calendar),
    Field(json_schema_extra={"pattern": TIMESTAMP_PATTERN}),
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class RecipientIn(Strict):
    # Stated in the document too: a person is reached by a phone number or an email address.
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]},
    )

    phone: str | None = Field(default=None, max_length=32)
    email: EmailStr | None = None
    name: str = Field(default="", max_length=100)
    locale: str = Locale


class CenterIn(Strict):
    """Sender identity and contact details; ``code`` picks a registered centre."""

    code: str | None = Field(default=None, max_length=50)
    name: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=32)
    address: str | None = Field(default=None, max_length=300)
    sms_sender: str | None = Field(default=None, max_length=32)
    email_sender: EmailStr | None = None
    reply_to: EmailStr | None = None


class MessageIn(Strict):
    template: str = Field(min_length=1, max_length=100, pattern=r"^[a-z0-9_\-]+$")
    to: RecipientIn
    channel: Literal["sms", "kakao", "email", "auto"] = Field(
        default="auto",
        description="auto: KakaoTalk AlimTalk when the centre has a channel and the template a variant, "
        "else SMS to a mobile, else email",
    )
    data: dict[str, Any] = Field(default_factory=dict)
    center: CenterIn | None = None
    send_at: IsoTime | None = None
    reference: str | None = Field(default=None, max_length=200)
    urgent: bool = Field(
        default=False,
        description="send even in the centre's quiet hours (otherwise held until they end); "
        "recorded in the message's history",
    )

    @field_validator("data")
    @classmethod
    def _no_reserved_keys(cls, value: dict[str, Any]) -> dict[str, Any]:
        reserved = sorted(k for k in value if k.startswith("_"))
        if reserved:  # keys starting with "_" are the service's own (e.g. its email headers)
            raise ValueError(f"keys starting with '_' are reserved: {', '.join(reserved)}")
        return value


AppointmentKind = Literal[
    "in_depth_counseling",
    "psychological_support",
    "competency_assessment",
    "interview_resume_consulting",
    "employer_consulting",
    "other",
]


class AppointmentRecipientIn(Strict):
    # Stated in the document too: a person is reached by a phone number or an email address.
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]},
    )

    name: str = Field(default="", max_length=100)
    phone: str | None = Field(default=None, max_length=32)
    email: EmailStr | None = None
    locale: str = Locale
    external_id: str | None = Field(default=None, max_length=200)


class AppointmentIn(Strict):
    recipient: AppointmentRecipientIn
    center: str = Field(min_length=1, max_length=50)
    kind: AppointmentKind
    starts_at: IsoTime
    duration_minutes: int = Field(default=50, ge=5, le=480)
    counselor: str = Field(default="", max_length=100)
    location: str = Field(min_length=1, max_length=300)
    channels: list[Literal["sms", "email"]] | None = Field(default=None, min_length=1, max_length=2)
    version: int | None = Field(default=None, ge=0, le=MAX_INT32)


class AppointmentQuery(Strict):
    center: str | None = Field(default=None, max_length=50)
    from_: IsoTime | None = Field(default=None, alias="from")
    to: IsoTime | None = None
    limit: int = Field(default=100, ge=1, le=500)


WebhookEvent = Literal[
    "message.status_changed",
    "appointment.confirmed",
    "appointment.change_requested",
    "appointment.outcome_recorded",
    "recipient.opted_out",
]


class OutcomeIn(Strict):
    outcome: Literal["attended", "no_show", "late_cancellation", "rescheduled_by_person"]
    recorded_at: IsoTime | None = Field(default=None, description="when it happened; default: now")
    version: int | None = Field(
        default=None, ge=0, le=MAX_INT32, description="the sender's own number for outcomes; only increases"
    )
    revision: int | None = Field(
        default=None, ge=1, le=MAX_INT32, description="the appointment revision the sender saw; 409 if stale"
    )


class WebhookIn(Strict):
    url: str = Field(min_length=8, max_length=2000, pattern=r"^https?://[^\s]+$")
    events: list[WebhookEvent] = Field(min_length=1)

    @field_validator("url")
    @classmethod
    def _names_a_host_and_port(cls, url: str) -> str:
        parts = urlsplit(url)
        try:
            port = parts.port
        except ValueError:
            port = 0
        if port == 0:
            raise ValueError("the port must be a number from 1 to 65535")
        if not parts.hostname:
            raise ValueError("must name a host")
        return url


ApiScope = Literal["send", "appointments", "campaigns", "templates", "admin"]


class ApiKeyIn(Strict):
    """A new API key: its name, its scopes and the client it belongs to."""

    name: str = Field(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f]+$")
    scopes: list[ApiScope] = Field(min_length=1, max_length=5)
    owner: str | None = Field(
        default=None, min_length=1, max_length=100, description="the client it belongs to (default: the name)"
    )
