"""Message templates as data: what a template expects, and one immutable version of it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

PARTS = ("sms.txt", "email_subject.txt", "email.html", "email.txt")
CHANNEL_PARTS = {"sms": ("sms.txt",), "email": ("email_subject.txt", "email.html", "email.txt")}
DEFAULT_LOCALE = "ko"
PURPOSES = frozenset(
    {"message", "confirmation", "reminder", "change", "cancellation", "announcement", "opt_out_confirmation"}
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

    def as_dict(self) -> dict[str, Any]:
        return {
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
        return all(parts.get(p) for p in CHANNEL_PARTS[channel])
