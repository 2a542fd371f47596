"""The centre registry: who a message is sent on behalf of, and how each centre schedules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import EmailStr, Field, TypeAdapter, ValidationError, field_validator
from sqlalchemy import Connection
from sqlalchemy.engine import RowMapping

from notifier.centers import repository as center_repo
from notifier.context import Context
from notifier.domain.phones import format_phone_kr, parse_phone
from notifier.domain.quiet_hours import QuietHours
from notifier.domain.reminders import parse_offsets
from notifier.errors import FieldError, InvalidPhoneNumber, ValidationFailed
from notifier.responses import ResponseModel
from notifier.schemas import Strict

SHIPPED = Path(__file__).resolve().parent.parent / "data" / "centers.yaml"
SenderProvider = Literal["solapi", "twilio"]
# Providers that send only from numbers registered with them (발신번호 사전등록, 전기통신사업법
# 제84조의2): a centre must list the number under the provider. Twilio sends from its own
# numbers abroad; a centre that lists numbers under "twilio" is held to them all the same.
REGISTRATION_REQUIRED = frozenset({"solapi"})
PF_ID_PATTERN = r"^[A-Za-z0-9_\-]{1,100}$"


class CenterRecord(Strict):
    code: str = Field(pattern=r"^[a-z0-9\-]{2,50}$")
    name: str = Field(min_length=1, max_length=100)
    phone: str
    address: str | None = Field(default=None, max_length=300)
    sms_sender: str
    email_sender: EmailStr | None = None
    reply_to: EmailStr | None = None
    timezone: str = "Asia/Seoul"
    reminder_offsets: str | None = None
    quiet_hours: str | None = None
    # provider -> numbers registered with it (발신번호 사전등록); a domestic gateway sends only these
    sender_numbers: dict[SenderProvider, list[str]] = Field(default_factory=dict)
    kakao_pf_id: str | None = Field(default=None, pattern=PF_ID_PATTERN)

    @field_validator("sender_numbers")
    @classmethod
    def _numbers(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        try:
            return {
                provider: sorted({parse_phone(n).e164 for n in numbers})
                for provider, numbers in value.items()
            }
        except InvalidPhoneNumber as exc:
            raise ValueError(exc.reason) from exc

    @field_validator("phone", "sms_sender")
    @classmethod
    def _phone(cls, value: str) -> str:
        try:
            return parse_phone(value).e164
        except InvalidPhoneNumber as exc:
            raise ValueError(exc.reason) from exc

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("reminder_offsets")
    @classmethod
    def _offsets(cls, value: str | None) -> str | None:
        if value is not None:
            parse_offsets(value)
        return value

    @field_validator("quiet_hours")
    @classmethod
    def _quiet(cls, value: str | None) -> str | None:
        if value is not None:
            QuietHours.parse(value)
        return value


@dataclass(frozen=True)
class Center:
    code: str
    name: str
    phone: str
    address: str | None
    sms_sender: str
    email_sender: str | None
    reply_to: str | None
    timezone: ZoneInfo
    reminder_offsets: tuple[timedelta, ...]
    quiet_hours: QuietHours
    sender_numbers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    kakao_pf_id: str | None = None

    def may_send_from(self, provider: str, number: str) -> bool:
        """Tell whether ``number`` is registered with ``provider`` for this centre."""
        listed = self.sender_numbers.get(provider)
        if listed is None:
            return provider not in REGISTRATION_REQUIRED
        return number in listed

    def identity(self) -> dict[str, str]:
        """What a message carries about its sender."""
        fields = {
            "code": self.code,
            "name": self.name,
            "phone": self.phone,
            "address": self.address,
            "sms_sender": self.sms_sender,
            "email_sender": self.email_sender,
            "reply_to": self.reply_to,
        }
        return {k: v for k, v in fields.items() if v}

    def as_dict(self) -> dict[str, Any]:
        return self.info().dump()

    def info(self) -> CenterInfo:
        """The centre as ``GET /v1/centers`` lists it."""
        fields: dict[str, Any] = {
            **self.identity(),  # leaves out the email addresses a centre does not have
            "phone_display": format_phone_kr(self.phone),
            "address": self.address,
            "timezone": self.timezone.key,
            "reminder_offsets": [int(o.total_seconds()) for o in self.reminder_offsets],
            "quiet_hours": f"{self.quiet_hours.start:%H:%M}-{self.quiet_hours.end:%H:%M}",
            "sender_numbers": {p: list(n) for p, n in self.sender_numbers.items()},
            "kakao_pf_id": self.kakao_pf_id,
        }
        return CenterInfo(**fields)


class CenterInfo(ResponseModel):
    code: str
    name: str
    phone: str = Field(description="E.164")
    phone_display: str = Field(json_schema_extra={"example": "041-661-5676"})
    address: str | None
    sms_sender: str
    email_sender: str = ""
    reply_to: str = ""
    timezone: str
    reminder_offsets: list[int] = Field(description="seconds before the start")
    quiet_hours: str = Field(json_schema_extra={"example": "21:00-08:00"})
    sender_numbers: dict[str, list[str]] = Field(
        default_factory=dict, description="per provider, the E.164 sender numbers registered with it"
    )
    kakao_pf_id: str | None = Field(default=None, description="the KakaoTalk channel AlimTalk goes from")


class CenterList(ResponseModel):
    items: list[CenterInfo]


def parse_file(path: Path) -> list[CenterRecord]:
    """Read and check a centres file; every bad entry is reported at once."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    try:
        return TypeAdapter(list[CenterRecord]).validate_python(raw)
    except ValidationError as exc:
        errors = [FieldError("/" + "/".join(str(p) for p in e["loc"]), e["msg"]) for e in exc.errors()]
        raise ValidationFailed(errors, f"{path}: {len(errors)} problem(s)") from exc


def load(ctx: Context, records: list[CenterRecord]) -> int:
    """Insert or update each centre; returns how many were written."""
    now = ctx.clock()
    with ctx.engine.begin() as conn:
        for record in records:
            values = {**record.model_dump(exclude={"code"}), "updated_at": now}
            center_repo.upsert(conn, record.code, **values)
    ctx.lookups.forget(lambda cached: cached[0] in ("center", "senders"))  # type: ignore[index]
    return len(records)


def _center(ctx: Context, row: Mapping[str, Any] | RowMapping) -> Center:
    settings = ctx.settings
    return Center(
        code=row["code"],
        name=row["name"],
        phone=row["phone"],
        address=row["address"],
        sms_sender=row["sms_sender"],
        email_sender=row["email_sender"],
        reply_to=row["reply_to"],
        timezone=ZoneInfo(row["timezone"]),
        reminder_offsets=parse_offsets(row["reminder_offsets"])
        if row["reminder_offsets"]
        else settings.reminder_offsets,
        quiet_hours=QuietHours.parse(row["quiet_hours"]) if row["quiet_hours"] else settings.quiet_hours,
        sender_numbers={p: tuple(n) for p, n in (row["sender_numbers"] or {}).items()},
        kakao_pf_id=row["kakao_pf_id"],
    )


def find(ctx: Context, conn: Connection, code: str) -> Center | None:
    row = center_repo.find(conn, code)
    return _center(ctx, row) if row else None


def get(ctx: Context, code: str, pointer: str = "/center/code") -> Center:
    """The centre with ``code``, or a 422 naming the field that referred to it.

    Read through the process's lookups (see notifier/lookups.py): a centre changed by another
    process is seen within the lookup TTL. Work that must see the row as it is now (inside a
    locked transaction) uses ``find`` on its own connection.
    """

    def load() -> Center | None:
        with ctx.engine.connect() as conn:
            return find(ctx, conn, code)

    center = ctx.lookups.recent(("center", code), load)
    if center is None:
        raise ValidationFailed([FieldError(pointer, f"no centre with code {code!r}")])
    return center


def quiet_hours_of(ctx: Context, identity: Mapping[str, Any]) -> tuple[ZoneInfo, QuietHours]:
    """The zone and quiet hours a message from this sender identity keeps.

    Its registered centre's (``code``), else the service's (``NOTIFIER_TIMEZONE``,
    ``NOTIFIER_QUIET_HOURS``).
    """
    code = identity.get("code")
    if code:
        try:
            center = get(ctx, str(code))
        except ValidationFailed:  # a centre removed since: the service's hours still hold
            return ctx.settings.timezone, ctx.settings.quiet_hours
        return center.timezone, center.quiet_hours
    return ctx.settings.timezone, ctx.settings.quiet_hours


def listing(ctx: Context) -> list[Center]:
    with ctx.engine.connect() as conn:
        return [_center(ctx, r) for r in center_repo.every(conn)]


def registered_senders(ctx: Context) -> tuple[frozenset[str], frozenset[str]]:
    """Every SMS sender number and email sender the service may use (through the lookups)."""

    def load() -> tuple[frozenset[str], frozenset[str]]:
        with ctx.engine.connect() as conn:
            rows = center_repo.senders(conn)
        sms = {r[0] for r in rows if r[0]}
        email = {r[1].lower() for r in rows if r[1]} | {ctx.settings.mail_from.lower()}
        if ctx.settings.twilio is not None and ctx.settings.twilio.default_from.startswith("+"):
            sms.add(ctx.settings.twilio.default_from)
        return frozenset(sms), frozenset(email)

    return ctx.lookups.recent(("senders",), load)


def unregistered_sender(ctx: Context, code: str | None, provider: str, number: str) -> str | None:
    """Why ``provider`` may not send from ``number`` for centre ``code`` (None: it may).

    A message for a registered centre goes only from a number that centre registered with the
    provider; one without a centre code, from a number some centre registered with it.
    """
    if code:
        try:
            center = get(ctx, code)
        except ValidationFailed:
            return f"센터 {code!r}가 더 이상 등록되어 있지 않아 발신번호를 확인할 수 없습니다."
        if center.may_send_from(provider, number):
            return None
        return (
            f"발신번호 {format_phone_kr(number)}는 {center.name}이(가) {provider}에 "
            "사전등록한 번호가 아닙니다 (발신번호 사전등록, 전기통신사업법 제84조의2)."
        )
    registered = ctx.lookups.recent(
        ("senders", provider),
        lambda: frozenset(n for c in listing(ctx) for n in c.sender_numbers.get(provider, ())),
    )
    if number in registered or provider not in REGISTRATION_REQUIRED:
        return None
    return f"발신번호 {format_phone_kr(number)}는 어느 센터도 {provider}에 사전등록하지 않은 번호입니다."
