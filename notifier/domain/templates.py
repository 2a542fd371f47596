"""Message templates as data: what a template expects, and one immutable version of it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

PARTS = ("sms.txt", "sms_short.txt", "email_subject.txt", "email.html", "email.txt", "alimtalk.txt")
ALIMTALK_PART = "alimtalk.txt"  # a locale's AlimTalk text, present where the spec has its variant
# An optional one-part form of sms.txt: sent instead of it whenever it renders within 90 bytes.
SMS_SHORT_PART = "sms_short.txt"
CHANNEL_PARTS = {"sms": ("sms.txt",), "email": ("email_subject.txt", "email.html", "email.txt")}
DEFAULT_LOCALE = "ko"
ANNOUNCEMENT = "announcement"  # sent only as a campaign, which checks consent and opt-outs
PURPOSES = frozenset(
    {"message", "confirmation", "reminder", "change", "cancellation", ANNOUNCEMENT, "opt_out_confirmation"}
)


@dataclass(frozen=True)
class AlimtalkButton:
    """A button of an approved AlimTalk template; ``link`` is Jinja (e.g. the person's page)."""

    name: str
    link: str
    type: str = "WL"

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "type": self.type, "link": self.link}


@dataclass(frozen=True)
class AlimtalkVariant:
    """A locale's KakaoTalk AlimTalk template as Kakao approved it (알림톡 템플릿)."""

    template_id: str
    registered_text: str  # with #{변수} placeholders, exactly as approved
    buttons: tuple[AlimtalkButton, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "template_id": self.template_id,
            "registered_text": self.registered_text,
            "buttons": [b.as_dict() for b in self.buttons],
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> AlimtalkVariant:
        return cls(
            template_id=str(raw.get("template_id", "")),
            registered_text=str(raw.get("registered_text", "")),
            buttons=tuple(
                AlimtalkButton(str(b.get("name", "")), str(b.get("link", "")), str(b.get("type", "WL")))
                for b in raw.get("buttons") or ()
            ),
        )


@dataclass(frozen=True)
class TemplateSpec:
    """What a template expects and how it is used; stored with every version."""

    description: str
    purpose: str
    channels: tuple[str, ...]
    values: Mapping[str, str]
    optional: frozenset[str] = frozenset()
    sample: Mapping[str, Any] = field(default_factory=dict)
    sample_en: Mapping[str, Any] | None = None
    # Groups of optional values of which the data must give at least one, e.g. a preformatted
    # ``appointment.when`` or an ISO ``appointment.starts_at`` shown with ``| when``.
    one_of: tuple[tuple[str, ...], ...] = ()
    # locale -> its AlimTalk variant; the text is the locale's ``alimtalk.txt`` part
    alimtalk: Mapping[str, AlimtalkVariant] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            **({"alimtalk": {lo: v.as_dict() for lo, v in self.alimtalk.items()}} if self.alimtalk else {}),
            "description": self.description,
            "purpose": self.purpose,
            "channels": list(self.channels),
            "values": dict(self.values),
            "optional": sorted(self.optional),
            "sample": dict(self.sample),
            "sample_en": dict(self.sample_en) if self.sample_en is not None else None,
            "one_of": [list(group) for group in self.one_of],
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> TemplateSpec:
        return cls(
            description=str(raw.get("description", "")),
            purpose=str(raw.get("purpose", "message")),
            channels=tuple(raw.get("channels") or ("sms", "email")),
            values={str(k): str(v) for k, v in (raw.get("values") or {}).items()},
            optional=frozenset(raw.get("optional") or ()),
            sample=dict(raw.get("sample") or {}),
            sample_en=dict(raw["sample_en"]) if raw.get("sample_en") else None,
            one_of=tuple(tuple(str(name) for name in group) for group in raw.get("one_of") or ()),
            alimtalk={str(lo): AlimtalkVariant.from_dict(v) for lo, v in (raw.get("alimtalk") or {}).items()},
        )

    def sample_for(self, locale: str) -> Mapping[str, Any]:
        return self.sample_en if locale == "en" and self.sample_en is not None else self.sample


@dataclass(frozen=True)
class TemplateVersion:
    key: str
    version: int
    spec: TemplateSpec
    sources: Mapping[str, Mapping[str, str]]  # locale -> part file name -> Jinja source

    def locale_for(self, wanted: str) -> str:
        """Pick the variant for ``wanted``, falling back to Korean."""
        if wanted in self.sources:
            return wanted
        language = wanted.replace("_", "-").split("-", 1)[0]
        return language if language in self.sources else DEFAULT_LOCALE

    def has_channel(self, channel: str, locale: str) -> bool:
        parts = self.sources.get(self.locale_for(locale), {})
        if channel == "kakao":  # SOLAPI's SMS/LMS fallback (대체발송) carries the locale's SMS text
            return self.alimtalk_for(locale) is not None and self.has_channel("sms", locale)
        return all(parts.get(p) for p in CHANNEL_PARTS[channel])

    def alimtalk_for(self, locale: str) -> AlimtalkVariant | None:
        """The AlimTalk variant of the locale ``locale`` is rendered in, if it has one."""
        chosen = self.locale_for(locale)
        variant = self.spec.alimtalk.get(chosen)
        return variant if variant is not None and self.sources.get(chosen, {}).get(ALIMTALK_PART) else None
