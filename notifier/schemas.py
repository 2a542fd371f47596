"""Request bodies, validated with pydantic. The API turns their errors into JSON pointers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import AwareDatetime, BaseModel, ConfigDict, EmailStr, Field, field_validator

MAX_SCHEDULE_AHEAD = timedelta(days=366)
Locale = Field(default="ko", pattern=r"^[a-z]{2}(-[A-Z]{2})?$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class RecipientIn(Strict):
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
    channel: Literal["sms", "email", "auto"] = "auto"
    data: dict[str, Any] = Field(default_factory=dict)
    center: CenterIn | None = None
    send_at: AwareDatetime | None = None
    reference: str | None = Field(default=None, max_length=200)

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
    name: str = Field(default="", max_length=100)
    phone: str | None = Field(default=None, max_length=32)
    email: EmailStr | None = None
    locale: str = Locale
    external_id: str | None = Field(default=None, max_length=200)


class AppointmentIn(Strict):
    recipient: AppointmentRecipientIn
    center: str = Field(min_length=1, max_length=50)
    kind: AppointmentKind
    starts_at: AwareDatetime
    duration_minutes: int = Field(default=50, ge=5, le=480)
    counselor: str = Field(default="", max_length=100)
    location: str = Field(min_length=1, max_length=300)
    channels: list[Literal["sms", "email"]] | None = Field(default=None, min_length=1, max_length=2)
    version: int | None = Field(default=None, ge=0)


class AppointmentQuery(Strict):
    center: str | None = Field(default=None, max_length=50)
    from_: AwareDatetime | None = Field(default=None, alias="from")
    to: AwareDatetime | None = None
    limit: int = Field(default=100, ge=1, le=500)


WebhookEvent = Literal[
    "message.status_changed", "appointment.confirmed", "appointment.change_requested", "recipient.opted_out"
]


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
