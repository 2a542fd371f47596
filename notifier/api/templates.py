"""GET/PUT /v1/templates/{key}, GET /v1/templates, versions, and POST .../preview.

Every route needs the ``templates`` scope (``admin`` keys pass too); changing a shipped template
(one of ``templates/``, shared by every client) needs ``admin``. A PUT adds a version;
it never changes one, so messages already accepted keep what they were rendered with.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from flask import Blueprint, g, request, url_for
from pydantic import BaseModel, ConfigDict, Field, JsonValue, StringConstraints
from pydantic.config import JsonDict

from notifier.api.auth import requires
from notifier.api.context import context
from notifier.api.openapi import Answers, doc, problems, scope
from notifier.api.problems import parse_json
from notifier.domain.templates import PURPOSES, AlimtalkVariant, TemplateSpec
from notifier.errors import FieldError, ValidationFailed
from notifier.schemas import NOT_BLANK
from notifier.templates import library as template_library
from notifier.templates.checks import LOCALE_PATTERN, VALUE_NAME_PATTERN
from notifier.templates.library import Author
from notifier.templates.views import Preview, Template, TemplateList, TemplateVersions

bp = Blueprint("templates", __name__, url_prefix="/v1/templates")
SECURITY = scope("templates")

PartName = Literal["sms.txt", "sms_short.txt", "email_subject.txt", "email.html", "email.txt", "alimtalk.txt"]
LocaleName = Annotated[str, StringConstraints(pattern=LOCALE_PATTERN.pattern)]
ValueName = Annotated[str, StringConstraints(pattern=VALUE_NAME_PATTERN.pattern, max_length=200)]
PURPOSE_NAMES: list[JsonValue] = [p for p in sorted(PURPOSES)]
MAX_VERSION = 2**31 - 1  # the column is a 32-bit integer
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]


class AlimtalkButtonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=14, description="as approved, e.g. 참석 확인/변경")
    type: Literal["WL"] = Field(default="WL", description="web link")
    link: str = Field(
        min_length=1, max_length=500, description="Jinja, e.g. {{ appointment.link }} (the person's page)"
    )


class AlimtalkIn(BaseModel):
    """A locale's KakaoTalk AlimTalk template as Kakao approved it; its text is ``alimtalk.txt``."""

    model_config = ConfigDict(extra="forbid")

    template_id: str = Field(min_length=1, max_length=100, description="Kakao's template id")
    registered_text: str = Field(
        min_length=1, max_length=1000, description="the approved text with its #{변수} placeholders"
    )
    buttons: list[AlimtalkButtonIn] = Field(default_factory=list, max_length=5)


class TemplateIn(BaseModel):
    """A new version of a template. Sources are Jinja; values are the data callers send."""

    model_config = ConfigDict(extra="forbid")

    description: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500, pattern=NOT_BLANK)
    ]
    purpose: str = Field(json_schema_extra={"enum": PURPOSE_NAMES})
    channels: list[Literal["sms", "email"]] = Field(min_length=1, max_length=2)
    values: dict[ValueName, Text] = Field(
        default_factory=dict,
        max_length=200,
        description="dotted name -> what the caller sends",
        json_schema_extra={"propertyNames": {"maxLength": 200, "pattern": VALUE_NAME_PATTERN.pattern}},
    )
    optional: list[ValueName] = Field(default_factory=list, max_length=200)
    sample: dict[str, Any] = Field(default_factory=dict, description="data previews and checks render with")
    sample_en: dict[str, Any] | None = Field(default=None, description="sample for the 'en' variant")
    one_of: list[Annotated[list[ValueName], Field(min_length=2, max_length=10)]] = Field(
        default_factory=list,
        max_length=50,
        description="groups of optional values of which the data must give at least one, "
        "e.g. [['appointment.when', 'appointment.starts_at']]",
    )
    sources: dict[LocaleName, dict[PartName, str]] = Field(
        min_length=1,
        max_length=20,
        description="locale -> part file name -> Jinja source; 'ko' is required",
        json_schema_extra={"required": ["ko"], "propertyNames": {"pattern": LOCALE_PATTERN.pattern}},
    )
    alimtalk: dict[LocaleName, AlimtalkIn] = Field(
        default_factory=dict,
        max_length=20,
        json_schema_extra={"propertyNames": {"pattern": LOCALE_PATTERN.pattern}},
        description="locale -> its AlimTalk variant; the locale's `alimtalk.txt` must be the registered "
        "text with a {{ ... }} where it has a #{변수}",
    )

    def source_texts(self) -> dict[str, dict[str, str]]:
        return {locale: {str(p): text for p, text in parts.items()} for locale, parts in self.sources.items()}

    def spec(self) -> TemplateSpec:
        return TemplateSpec(
            description=self.description,
            purpose=self.purpose,
            channels=tuple(self.channels),
            values=dict(self.values),
            optional=frozenset(self.optional),
            sample=self.sample,
            sample_en=self.sample_en,
            one_of=tuple(tuple(group) for group in self.one_of),
            alimtalk={lo: AlimtalkVariant.from_dict(v.model_dump()) for lo, v in self.alimtalk.items()},
        )


# Data an advertising preview renders with names the sending centre (정보통신망법 제50조).
ADVERTISING_DATA: JsonDict = {
    "type": "object",
    "required": ["center"],
    "properties": {
        "center": {
            "type": "object",
            "required": ["name"],
            "properties": {"name": {"type": "string", "pattern": r"\S"}},
        }
    },
}


class PreviewIn(BaseModel):
    """What to preview: without ``data`` the template's sample data for the locale is used."""

    # Stated in the document too: advertising names its sender, so given data names the centre.
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "if": {"required": ["advertising"], "properties": {"advertising": {"const": True}}},
            "then": {"properties": {"data": {"anyOf": [{"type": "null"}, ADVERTISING_DATA]}}},
        },
    )

    data: dict[str, Any] | None = Field(
        default=None,
        description="the template's values plus `center` {name, phone, address} and `recipient` {name}",
    )
    channel: Literal["sms", "kakao", "email"] = Field(
        default="sms", description="one the template has a variant for (422 otherwise)"
    )
    locale: LocaleName = "ko"
    advertising: bool = Field(default=False, description="apply the (광고) markings and opt-out")


class VersionQuery(BaseModel):
    """``?version=N``: read by ``version_arg``."""

    version: int | None = Field(default=None, ge=1, le=MAX_VERSION, description="the current one if left out")


def version_arg() -> int | None:
    """Read ``?version=N``; 422 unless it is a version number the database can hold."""
    raw = request.args.get("version")
    if raw is None:
        return None
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_VERSION:
        raise ValidationFailed([FieldError("/version", f"must be a whole number from 1 to {MAX_VERSION}")])
    return int(raw)


@bp.get("")
@doc(resp=Answers(HTTP_200=(TemplateList, "The templates"), **problems(401, 403)), security=SECURITY)
@requires("templates")
def index() -> dict[str, Any]:
    """Every template at its current version"""
    return template_library.list_templates(context())


@bp.get("/<key>")
@doc(
    query=VersionQuery,
    resp=Answers(HTTP_200=(Template, "The version"), **problems(401, 403, 404, 422)),
    security=SECURITY,
)
@requires("templates")
def show(key: str) -> dict[str, Any]:
    """One template version (the current one without `version`)"""
    return template_library.get_template(context(), key, version_arg())


@bp.get("/<key>/versions")
@doc(resp=Answers(HTTP_200=(TemplateVersions, "The versions"), **problems(401, 403, 404)), security=SECURITY)
@requires("templates")
def versions(key: str) -> dict[str, Any]:
    """Every version of a template, oldest first"""
    return template_library.template_versions(context(), key)


@bp.put("/<key>")
@doc(
    json=TemplateIn,
    resp=Answers(
        HTTP_200=(Template, "A new version of an existing template"),
        HTTP_201=(Template, "The first version of a new template"),
        **problems(400, 401, 403, 409, 413, 415, 422),
    ),
    security=SECURITY,
)
@requires("templates")
def save(key: str) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Save a new version (or the first version of a new key)

    Changing a shipped template (shared by every client) needs the `admin` scope; every version
    records the name of the key that saved it (`saved_by`). The version is checked before it is
    stored: every part compiles, uses only declared values and (SMS) characters cp949 can encode,
    and every locale and channel renders with the sample data. A refused version stores nothing;
    `errors` name the part (`/sources/ko/sms.txt`) and the line.
    """
    body, _ = parse_json(TemplateIn)
    author = Author(g.owner, g.key_name, admin="admin" in g.scopes)
    created, view = template_library.save_template(context(), key, body.spec(), body.source_texts(), author)
    location = url_for("templates.show", key=key, version=view["version"])
    return view, 201 if created else 200, {"Location": location}


@bp.post("/<key>/preview")
@doc(
    query=VersionQuery,
    json=PreviewIn,
    resp=Answers(HTTP_200=(Preview, "The rendered message"), **problems(400, 401, 403, 404, 415, 422)),
    security=SECURITY,
)
@requires("templates")
def preview(key: str) -> dict[str, Any]:
    """Render a template as a recipient would get it, without sending

    SMS: body, Korean size class, cp949 bytes, Twilio encoding and segments. AlimTalk (`kakao`):
    the same for its text (SOLAPI's fallback carries it), and its template id, values and
    buttons. Email: subject, HTML and text. Without `data` the template's sample data is used.
    With `advertising` the (광고) markings are applied with a placeholder opt-out line; real
    campaigns use the centre's own free 080 number (and never AlimTalk: a 422).
    """
    body, _ = parse_json(PreviewIn)
    return template_library.preview(
        context(),
        key,
        channel=body.channel,
        locale=body.locale,
        data=body.data,
        advertising=body.advertising,
        version=version_arg(),
    )
