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
    JsonValue,
    field_validator,
)
from pydantic.config import JsonDict

# A webhook receiver: http(s), a host name or an IPv4 address (no user-info, no IPv6 literal),
# a port from 1 to 65535, then printable ASCII without a backslash (see webhooks/egress.py).
RECEIVER_URL_PATTERN = (
    r"^https?://[A-Za-z0-9]([A-Za-z0-9.\-]{0,251}[A-Za-z0-9])?"
    r"(:([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?"
    r"([/?#][!-\[\]-~]*)?$"
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
# The form of a phone number: digits, a leading + (or 00 for +, as Koreans write +82) and the
# separators people write. Whether the number exists in its country's numbering plan is checked
# after, and a number that does not is refused with 422 invalid-phone-number: no pattern can
# hold the numbering plans of every country.
PHONE_PATTERN = r"^\+?\(?[0-9][0-9 ().\-]{4,29}[0-9]$"  # ends in a digit: nothing to strip
PHONE_RULE = (
    "digits with spaces, dots, hyphens or brackets, optionally after +; "
    "a number that is not valid in its country's numbering plan is refused (422 invalid-phone-number)"
)
PhoneText = Annotated[str, Field(max_length=32, pattern=PHONE_PATTERN, description=PHONE_RULE)]
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


# A person is reached by a phone number, an email address or both (null is neither).
# Each branch repeats the field's whole schema: a generator that reads one branch alone (as
# schemathesis does when it substitutes values) then still makes a valid value.
PHONE_SCHEMA: JsonDict = {"type": "string", "maxLength": 32, "pattern": PHONE_PATTERN}
EMAIL_SCHEMA: JsonDict = {"type": "string", "format": "email"}
PHONE_OR_EMAIL: list[JsonValue] = [
    {"required": ["phone"], "properties": {"phone": PHONE_SCHEMA}},
    {"required": ["email"], "properties": {"email": EMAIL_SCHEMA}},
]


# 발신번호 사전등록: a message sends only from a number or address some centre registered.
SENDER_RULE = "without `code`: a sender some registered centre has (422 otherwise); with `code`: left out"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# Text that must say something: spaces around it are stripped, so spaces alone are nothing.
NOT_BLANK = r"\S"

# Paging cursors are opaque: only one the API returned as ``next_cursor`` names a place in a list.
CURSOR_RULE = "opaque: pass a `next_cursor` this API returned; any other value is refused (422)"


class Query(BaseModel):
    """Query parameters: the ones named are checked, any others are ignored (a tracking or
    cache-busting parameter added on the way is no reason to refuse a request)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class RecipientIn(Strict):
    # Stated in the document too: a person is reached by a phone number or an email address.
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"anyOf": PHONE_OR_EMAIL},
    )

    phone: PhoneText | None = None
    email: EmailStr | None = None
    name: str = Field(default="", max_length=100)
    locale: str = Locale


class CenterIn(Strict):
    """Sender identity and contact details; ``code`` picks a registered centre."""

    # Stated in the document too: a registered centre's senders are its own, not the message's.
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "if": {"required": ["code"], "properties": {"code": {"type": "string", "minLength": 1}}},
            "then": {"properties": {"sms_sender": {"type": "null"}, "email_sender": {"type": "null"}}},
        },
    )

    code: str | None = Field(default=None, max_length=50)
    name: str | None = Field(default=None, max_length=100)
    phone: PhoneText | None = None
    address: str | None = Field(default=None, max_length=300)
    sms_sender: PhoneText | None = Field(default=None, description=SENDER_RULE)
    email_sender: EmailStr | None = Field(default=None, description=SENDER_RULE)
    reply_to: EmailStr | None = None


class MessageIn(Strict):
    template: str = Field(min_length=1, max_length=100, pattern=r"^[a-z0-9_\-]+$")
    to: RecipientIn
    channel: Literal["sms", "kakao", "email", "auto"] = Field(
        default="auto",
        description="auto: KakaoTalk AlimTalk when the centre has a channel and the template a variant, "
        "else SMS to a mobile, else email; sms, kakao or email: "
        "one the template has a variant for (422 otherwise)",
    )
    data: dict[str, Any] = Field(
        default_factory=dict,
        description="template values; keys starting with '_' are the service's own",
        json_schema_extra={"propertyNames": {"pattern": "^([^_]|$)"}},
    )
    center: CenterIn | None = None
    send_at: Annotated[
        IsoTime | None,
        Field(
            description="when to send (now if left out); at most a year ahead (422 otherwise); "
            "a time in the past is due at once, but one 24 hours or more in the past has passed "
            "its validity window and is refused (422)"
        ),
    ] = None
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
        json_schema_extra={"anyOf": PHONE_OR_EMAIL},
    )

    name: str = Field(default="", max_length=100)
    phone: PhoneText | None = None
    email: EmailStr | None = None
    locale: str = Locale
    external_id: str | None = Field(default=None, max_length=200)


def _channel_needs(channel: str, address: str, schema: JsonDict) -> JsonDict:
    """JSON Schema: if ``channels`` names ``channel``, the recipient gives ``address``."""
    return {
        "if": {
            "required": ["channels"],
            "properties": {"channels": {"type": "array", "contains": {"const": channel}}},
        },
        "then": {"properties": {"recipient": {"required": [address], "properties": {address: schema}}}},
    }


class AppointmentIn(Strict):
    # Stated in the document too: the channels named need the recipient's address for them.
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "allOf": [
                _channel_needs("sms", "phone", PHONE_SCHEMA),
                _channel_needs("email", "email", EMAIL_SCHEMA),
            ]
        },
    )

    recipient: AppointmentRecipientIn
    center: str = Field(min_length=1, max_length=50, pattern=NOT_BLANK)
    kind: AppointmentKind
    starts_at: Annotated[
        IsoTime,
        Field(description="must be in the future when the appointment is created or moved (else 422)"),
    ]
    duration_minutes: int = Field(default=50, ge=5, le=480)
    counselor: str = Field(default="", max_length=100)
    location: str = Field(min_length=1, max_length=300, pattern=NOT_BLANK)
    channels: list[Literal["sms", "email"]] | None = Field(default=None, min_length=1, max_length=2)
    version: int | None = Field(default=None, ge=0, le=MAX_INT32)


class AppointmentQuery(Query):
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
    outcome: Literal["attended", "no_show", "late_cancellation", "rescheduled_by_person"] = Field(
        description="attended and no_show only once the appointment has started; "
        "a cancelled appointment takes only the two cancellations (422 otherwise)"
    )
    recorded_at: IsoTime | None = Field(
        default=None,
        description="when it happened; default: now. Not in the future, "
        "and for attended or no_show not before the start (422 otherwise)",
    )
    version: int | None = Field(
        default=None, ge=0, le=MAX_INT32, description="the sender's own number for outcomes; only increases"
    )
    revision: int | None = Field(
        default=None, ge=1, le=MAX_INT32, description="the appointment revision the sender saw; 409 if stale"
    )


class WebhookIn(Strict):
    url: str = Field(
        min_length=8,
        max_length=2000,
        pattern=RECEIVER_URL_PATTERN,
        description="http(s), a host name or IPv4 address, an optional port; no user name, "
        "backslash or space. Unless the service allows private receivers, the host must resolve "
        "to public addresses only (422 otherwise)",
    )
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
