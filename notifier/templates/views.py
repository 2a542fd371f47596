"""The answers of the template API: response models and the functions that build them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from notifier.domain.templates import TemplateVersion
from notifier.responses import ResponseModel, Timestamp


class TemplateSummary(ResponseModel):
    key: str
    version: int = Field(description="the current version")
    description: str
    purpose: str
    channels: list[Literal["sms", "email"]]
    locales: list[str]


class TemplateList(ResponseModel):
    items: list[TemplateSummary]


class Template(ResponseModel):
    """One version of a template."""

    key: str
    version: int = Field(ge=1)
    description: str
    purpose: str
    channels: list[Literal["sms", "email"]]
    values: dict[str, str]
    optional: list[str]
    sample: dict[str, Any]
    sample_en: dict[str, Any] | None
    one_of: list[list[str]] = Field(description="groups of optional values the data must give one of")
    sources: dict[str, dict[str, str]] = Field(description="locale -> part file name -> Jinja source")
    alimtalk: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="locale -> its AlimTalk variant (template_id, registered_text, buttons)",
    )
    created_at: Timestamp
    created_by: str = Field(description="owner of the key that saved it")
    saved_by: str | None = Field(description="name of the key that saved it (unknown before 0007)")


class TemplateVersionEntry(ResponseModel):
    version: int
    created_at: Timestamp
    created_by: str
    saved_by: str | None = Field(description="name of the key that saved it (unknown before 0007)")


class TemplateVersions(ResponseModel):
    key: str
    current_version: int
    items: list[TemplateVersionEntry]


class UnencodableChar(ResponseModel):
    char: str
    position: int
    line: int
    column: int


class PreviewCost(ResponseModel):
    provider: str
    krw: float | None = Field(description="null when the price table has no price for this class")


class Preview(ResponseModel):
    """SMS and AlimTalk previews carry body and sizing; email previews subject, html and text."""

    key: str
    version: int
    channel: Literal["sms", "kakao", "email"]
    alimtalk: dict[str, Any] | None = Field(
        default=None,
        description="kakao: template_id, variables, buttons, and the SMS/LMS fallback (fallback_text, "
        "fallback_class); the sizes below are the fallback's",
    )
    locale: str = Field(description="the variant used (falls back to ko)")
    advertising: bool
    body: str = ""
    characters: int = 0
    cp949_bytes: int = Field(default=0, description="size Korean carriers bill")
    kr_class: Literal["SMS", "LMS"] | None = None
    encoding: Literal["GSM-7", "UCS-2"] = "GSM-7"
    segments: int = Field(default=0, description="Twilio segments")
    too_long: bool = False
    unencodable: list[UnencodableChar] = Field(default_factory=list)
    subject: str | None = None
    html: str | None = None
    text: str = ""
    cost: list[PreviewCost] = Field(default_factory=list, description="SMS: KRW each, per provider in order")


def summary_model(version: TemplateVersion) -> TemplateSummary:
    spec = version.spec
    return TemplateSummary.model_validate(
        {
            "key": version.key,
            "version": version.version,
            "description": spec.description,
            "purpose": spec.purpose,
            "channels": list(spec.channels),
            "locales": sorted(version.sources),
        }
    )


def version_view(
    version: TemplateVersion, created_at: datetime, created_by: str, saved_by: str | None
) -> dict[str, Any]:
    """The public JSON shape of one template version."""
    return Template(
        key=version.key,
        version=version.version,
        **version.spec.as_dict(),
        sources={locale: dict(parts) for locale, parts in version.sources.items()},
        created_at=created_at,
        created_by=created_by,
        saved_by=saved_by,
    ).dump()
