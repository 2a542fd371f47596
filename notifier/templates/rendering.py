"""Render a template version with data into a RenderedMessage, inside ``templates.sandbox``.

Values are escaped in HTML parts and never in SMS or plain text; advertising markings are
applied here, by the service, not left to template authors.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError
from markupsafe import escape

from notifier.domain.alimtalk import variables_of
from notifier.domain.consent import mark_advertising_sms, mark_advertising_subject
from notifier.domain.sms import (
    LMS_MAX_BYTES,
    SMS_MAX_BYTES,
    TWILIO_MAX_CHARS,
    SmsSize,
    apply_replacements,
    cp949_bytes,
    measure_sms,
)
from notifier.domain.templates import ALIMTALK_PART, SMS_SHORT_PART, TemplateSpec, TemplateVersion
from notifier.errors import FieldError, MissingTemplateValues, TemplateRejected, ValidationFailed
from notifier.templates.display_filters import LOCALE_KEY
from notifier.templates.limits import (
    MAX_OUTPUT_CHARS,
    RENDER_DEADLINE_SECONDS,
    Budget,
    RenderBudgetExceeded,
    bounded_range,
    render_budget,
)
from notifier.templates.sandbox import ALWAYS_PRESENT, MessageSandbox


@dataclass(frozen=True)
class RenderedAlimtalk:
    """What SOLAPI needs besides the text: the approved template, its values and buttons, and
    the fallback (대체발송): the template's SMS text, sent as SMS or LMS when the AlimTalk cannot be."""

    template_id: str
    variables: dict[str, str]  # "#{변수}" -> value
    buttons: tuple[dict[str, str], ...] = ()  # {"name", "type", "link"}
    fallback_text: str = ""  # the locale's sms.txt with the same data, checked like any SMS
    fallback_class: str = "SMS"  # "SMS" or "LMS", by its cp949 size

    def as_dict(self) -> dict[str, Any]:
        return {
            "template_id": self.template_id,
            "variables": self.variables,
            "buttons": list(self.buttons),
            "fallback_text": self.fallback_text,
            "fallback_class": self.fallback_class,
        }


@dataclass(frozen=True)
class RenderedMessage:
    channel: str
    locale: str
    body: str
    subject: str | None = None
    html: str | None = None
    sms: SmsSize | None = None  # for AlimTalk: the size of its SMS/LMS fallback (``alimtalk.fallback_text``)
    alimtalk: RenderedAlimtalk | None = None


@dataclass(frozen=True)
class Advertising:
    """What the service adds to an advertising message (정보통신망법 제50조)."""

    opt_out_line: str  # e.g. "무료수신거부 080-123-4567" or a link, for SMS
    opt_out_url: str  # for email bodies


class Renderer:
    """Render template versions in one shared sandbox; compiled templates are cached."""

    def __init__(self, layout_dir: Path) -> None:
        self._versions: dict[str, TemplateVersion] = {}
        loader = jinja2.ChoiceLoader(
            [
                jinja2.FunctionLoader(self._load_version_source),
                jinja2.PrefixLoader({"_layout": jinja2.FileSystemLoader(layout_dir)}),
            ]
        )
        self.env = MessageSandbox(
            loader=loader,
            undefined=jinja2.StrictUndefined,
            autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            auto_reload=False,
            cache_size=2000,
        )
        self.env.globals.clear()
        self.env.globals.update({"range": bounded_range, "dict": dict})

    @staticmethod
    def source_name(version: TemplateVersion, locale: str, part: str) -> str:
        return f"{version.key}@{version.version}/{locale}/{part}"

    def _load_version_source(self, name: str) -> str | None:
        head, _, rest = name.partition("/")
        version = self._versions.get(head)
        if version is None or "/" not in rest:
            return None
        locale, _, part = rest.partition("/")
        return version.sources.get(locale, {}).get(part)

    def register(self, version: TemplateVersion) -> None:
        self._versions[f"{version.key}@{version.version}"] = version

    def compile_part(self, version: TemplateVersion, locale: str, part: str) -> jinja2.Template:
        self.register(version)
        return self.env.get_template(self.source_name(version, locale, part))

    def render_part(
        self, version: TemplateVersion, locale: str, part: str, context: Mapping[str, Any]
    ) -> str:
        """Render one part within the budget; raise TemplateRejected if it misbehaves."""
        template = self.compile_part(version, locale, part)
        token = render_budget.set(Budget(deadline=time.monotonic() + RENDER_DEADLINE_SECONDS))
        try:
            chunks: list[str] = []
            size = 0
            for chunk in template.generate(context):
                size += len(chunk)
                if size > MAX_OUTPUT_CHARS:
                    raise RenderBudgetExceeded(f"output longer than {MAX_OUTPUT_CHARS} characters")
                chunks.append(chunk)
            return "".join(chunks)
        except jinja2.UndefinedError as exc:
            raise MissingTemplateValues([_undefined_name(exc)]) from exc
        except (RenderBudgetExceeded, RecursionError, SecurityError) as exc:
            reason = "recursion too deep" if isinstance(exc, RecursionError) else str(exc)
            raise TemplateRejected([FieldError(f"/{locale}/{part}", reason)]) from exc
        except MemoryError as exc:  # a limit above missed a way to build a huge value
            reason = "the template needs more memory than a message may take"
            raise TemplateRejected([FieldError(f"/{locale}/{part}", reason)]) from exc
        except jinja2.TemplateError as exc:
            raise TemplateRejected([FieldError(f"/{locale}/{part}", str(exc))]) from exc
        except RUNTIME_ERRORS as exc:
            # The template did something its data does not allow (e.g. dividing by a string).
            reason = f"{line_prefix(exc)}the template fails with this data: {exc!r}"
            raise TemplateRejected([FieldError("/data", reason)]) from exc
        finally:
            render_budget.reset(token)

    def render(
        self,
        version: TemplateVersion,
        channel: str,
        locale: str,
        data: Mapping[str, Any],
        advertising: Advertising | None = None,
        unsubscribe_url: str | None = None,
    ) -> RenderedMessage:
        """Render ``version`` for ``channel`` with every check a message must pass.

        An email gets an unsubscribe link at its end if it is advertising or ``unsubscribe_url``
        is given (a campaign's informational email).
        """
        locale = version.locale_for(locale)
        if not version.has_channel(channel, locale):
            raise ValidationFailed(
                [FieldError("/channel", f"template {version.key!r} has no {channel} variant")]
            )
        context = prepare_context(version.spec, data)
        context[LOCALE_KEY] = locale  # the display filters speak the variant's language
        center_name = str(context["center"].get("name", ""))
        if advertising is not None and not center_name:
            raise ValidationFailed([FieldError("/center", "advertising must name the centre that sends it")])
        if channel == "kakao":
            if advertising is not None:
                raise ValidationFailed([FieldError("/channel", ADVERTISING_NOT_BY_ALIMTALK)])
            return self._render_alimtalk(version, locale, context)
        if channel == "sms":
            body = "" if advertising is not None else self.short_sms(version, locale, context)
            body = body or apply_replacements(self.render_part(version, locale, "sms.txt", context).strip())
            if advertising is not None:
                body = mark_advertising_sms(body, center_name, advertising.opt_out_line)
            size = measure_sms(body)
            check_sms(size)
            return RenderedMessage(channel, locale, body, sms=size)
        subject = " ".join(self.render_part(version, locale, "email_subject.txt", context).split())
        html = self.render_part(version, locale, "email.html", context)
        text = self.render_part(version, locale, "email.txt", context).strip() + "\n"
        if advertising is not None:
            subject = mark_advertising_subject(subject)
        link = advertising.opt_out_url if advertising is not None else unsubscribe_url
        if link:
            html, text = add_opt_out_link(html, text, link, locale)
        return RenderedMessage(channel, locale, text, subject=subject, html=html)

    def short_sms(self, version: TemplateVersion, locale: str, context: Mapping[str, Any]) -> str:
        """The one-part form (``sms_short.txt``) if the locale has one and it fits 90 bytes, else ''.

        The short form is an optimisation: when its values are missing (a caller gave only
        ``appointment.when``) or the centre's name makes it too long, ``sms.txt`` goes instead.
        """
        if not version.sources.get(locale, {}).get(SMS_SHORT_PART):
            return ""
        try:
            body = apply_replacements(self.render_part(version, locale, SMS_SHORT_PART, context).strip())
        except (MissingTemplateValues, TemplateRejected):
            return ""
        return body if body and cp949_bytes(body) <= SMS_MAX_BYTES else ""

    def _render_alimtalk(
        self, version: TemplateVersion, locale: str, context: Mapping[str, Any]
    ) -> RenderedMessage:
        """Render the AlimTalk text and recover its #{변수} values; render its fallback, the SMS text.

        The fallback is the locale's ``sms.txt`` with the same data, sized and checked like any
        SMS (no advertising marking: AlimTalk is informational only); ``has_channel`` already
        refused a template without it.
        """
        variant = version.alimtalk_for(locale)
        if variant is None:
            raise ValidationFailed(
                [FieldError("/channel", f"template {version.key!r} has no AlimTalk variant")]
            )
        body = apply_replacements(self.render_part(version, locale, ALIMTALK_PART, context).strip())
        fallback = apply_replacements(self.render_part(version, locale, "sms.txt", context).strip())
        size = measure_sms(fallback)
        check_sms(size)  # SOLAPI's SMS/LMS fallback carries this text
        values = variables_of(variant.registered_text, body)
        if values is None:
            reason = "the values make a text Kakao did not approve (a value with a line break?)"
            raise ValidationFailed([FieldError("/data", reason)])
        buttons = []
        for button in variant.buttons:
            try:
                link = self.env.from_string(button.link).render(context).strip()
            except jinja2.UndefinedError as exc:
                raise MissingTemplateValues([_undefined_name(exc)]) from exc
            if not link.startswith(("https://", "http://")):
                reason = f"the AlimTalk button {button.name!r} needs a web link; the data gives {link!r}"
                raise ValidationFailed([FieldError("/data", reason)])
            buttons.append({"name": button.name, "type": button.type, "link": link})
        kr_class = size.kr_class.value if size.kr_class else "LMS"
        content = RenderedAlimtalk(variant.template_id, values, tuple(buttons), fallback, kr_class)
        return RenderedMessage("kakao", locale, body, sms=size, alimtalk=content)


ADVERTISING_NOT_BY_ALIMTALK = " ".join(
    (
        "광고는 알림톡으로 보낼 수 없습니다: 카카오 알림톡은 정보성 메시지만 허용합니다.",
        "SMS(광고 표시 포함)나 이메일로 보내 주세요.",
    )
)
RUNTIME_ERRORS = (ArithmeticError, LookupError, TypeError, ValueError, AttributeError)
_TEMPLATE_FRAME = "<template>"  # how Jinja names the frames of templates loaded without a file


def line_prefix(exc: BaseException) -> str:
    """'line N: ' for the template line an exception came from, or ''."""
    line = None
    for error in (exc, exc.__cause__):
        if error is not None:
            for frame in traceback.extract_tb(error.__traceback__):
                if frame.filename == _TEMPLATE_FRAME:
                    line = frame.lineno
    return f"line {line}: " if line else ""


def check_sms(size: SmsSize) -> None:
    """Refuse an SMS body that handsets would garble or carriers would refuse."""
    errors = [
        FieldError("/data", f"SMS cannot carry {u.char!r} (position {u.position})") for u in size.unencodable
    ]
    if size.too_long:
        errors.append(
            FieldError(
                "/data",
                f"SMS body is {size.cp949_bytes} bytes and {size.characters} characters; "
                f"at most {LMS_MAX_BYTES:,} bytes and {TWILIO_MAX_CHARS:,} characters may be sent",
            )
        )
    if errors:
        raise ValidationFailed(errors)


UNSUBSCRIBE_TEXT = {
    "ko": "수신을 원하지 않으시면 여기를 눌러 수신거부해 주세요 (무료)",
    "en": "To stop receiving these messages, unsubscribe here (free)",
}


def add_opt_out_link(html: str, text: str, url: str, locale: str) -> tuple[str, str]:
    """Append the unsubscribe link every campaign email carries (advertising must, by law)."""
    label = UNSUBSCRIBE_TEXT.get(locale, UNSUBSCRIBE_TEXT["ko"])
    escaped = escape(url)
    footer = (
        f'<p style="font-size:13px;color:#444;margin:16px 0 0"><a href="{escaped}" '
        f'style="color:#1a5490">{escape(label)}</a></p>'
    )
    if "</body>" in html:
        html = html.replace("</body>", footer + "</body>", 1)
    else:
        html += footer
    return html, f"{text}\n{label}: {url}\n"


def prepare_context(spec: TemplateSpec, data: Mapping[str, Any]) -> dict[str, Any]:
    """Check the data against the spec and fill optional values with empty strings."""
    # A shallow copy: filling optional values copies each dict on its way (``_assign``), so the
    # caller's data is never touched without copying all of it for every message.
    context: dict[str, Any] = dict(data)
    context.setdefault("center", {})
    context.setdefault("recipient", {})
    for root in ALWAYS_PRESENT:
        if not isinstance(context[root], Mapping):
            raise ValidationFailed([FieldError(f"/data/{root}", "must be an object")])
        context[root] = dict(context[root])
    context["center"].setdefault("name", "")
    context["center"].setdefault("phone", "")
    context["center"].setdefault("address", "")
    context["center"].setdefault("reply_to", "")
    context["recipient"].setdefault("name", "")
    missing = []
    given: set[str] = set()
    for name in spec.values:
        found, value = _lookup(context, name)
        if not found or value is None:
            if name in spec.optional:
                _assign(context, name, "")
            else:
                missing.append(name)
        elif value != "":
            given.add(name)
    lacking = [group for group in spec.one_of if not given.intersection(group)]
    if missing or lacking:
        raise MissingTemplateValues(
            [m.replace(".", "/") for m in missing],
            either=[tuple(name.replace(".", "/") for name in group) for group in lacking],
        )
    return context


def _lookup(context: Mapping[str, Any], dotted: str) -> tuple[bool, Any]:
    value: Any = context
    for part in dotted.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return False, None
        value = value[part]
    return True, value


def _assign(context: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``context[a][b]... = value``, copying every dict on the way (they may be the caller's)."""
    *parents, last = dotted.split(".")
    target = context
    for part in parents:
        existing = target.get(part)
        copied = dict(existing) if isinstance(existing, Mapping) else {}
        target[part] = copied
        target = copied
    target[last] = value


def _undefined_name(exc: jinja2.UndefinedError) -> str:
    message = str(exc)
    # "'x' is undefined" or "'dict object' has no attribute 'y'"
    if "has no attribute" in message:
        return message.rsplit("'", 2)[-2]
    return message.split("'")[1] if "'" in message else message
