"""Golden tests: every shipped template, in every locale and channel, renders a sendable message.

Each renders with its own sample data through the real Renderer and through the preview API,
and the two must agree. An advertising preview must carry the legal markings.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from notifier.bootstrap import TEMPLATES_DIR
from notifier.domain.consent import ADVERTISING_PREFIX
from notifier.domain.sms import SMS_MAX_BYTES, measure_sms
from notifier.domain.templates import SMS_SHORT_PART, TemplateVersion
from notifier.templates.files import load_directory
from notifier.templates.library import PREVIEW_OPT_OUT_LINE, check_candidate
from notifier.templates.rendering import Renderer

SHIPPED = load_directory(TEMPLATES_DIR)
CASES = [
    pytest.param(version, locale, channel, id=f"{version.key}-{locale}-{channel}")
    for version in SHIPPED
    for locale in sorted(version.sources)
    for channel in version.spec.channels
]
APPOINTMENT_TEMPLATES = [v for v in SHIPPED if v.key.startswith("appointment_")]
# The kinds template.yaml documents for appointment.kind; anything else is treated as "other".
APPOINTMENT_KINDS = (
    "in_depth_counseling",
    "psychological_support",
    "competency_assessment",
    "interview_resume_consulting",
    "employer_consulting",
    "other",
)
LEFTOVERS = ("{{", "}}", "{%", "%}", "{#", "undefined", "None")


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(TEMPLATES_DIR / "_layout")


@pytest.fixture
def editor(make_key) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_key('templates')}"}


def sample(version: TemplateVersion, locale: str) -> dict[str, Any]:
    return copy.deepcopy(dict(version.spec.sample_for(locale)))


def texts(rendered: Any) -> dict[str, str]:
    if rendered.channel == "sms":
        return {"body": rendered.body}
    return {"subject": rendered.subject, "html": rendered.html, "text": rendered.body}


def assert_clean(name: str, text: str) -> None:
    for leftover in LEFTOVERS:
        assert leftover not in text, f"{name} contains {leftover!r}:\n{text}"


def test_every_template_folder_was_loaded() -> None:
    folders = {p.name for p in TEMPLATES_DIR.iterdir() if p.is_dir() and not p.name.startswith("_")}
    assert {v.key for v in SHIPPED} == folders
    assert len(CASES) == len(SHIPPED) * 2 * 2


@pytest.mark.parametrize("version", SHIPPED, ids=lambda v: v.key)
def test_every_shipped_template_passes_the_save_time_checks(ctx, version) -> None:
    assert check_candidate(ctx, version) == []


@pytest.mark.parametrize(("version", "locale", "channel"), CASES)
def test_the_sample_renders_a_complete_message(renderer, version, locale, channel) -> None:
    data = sample(version, locale)
    rendered = renderer.render(version, channel, locale, data)
    assert rendered.locale == locale
    for name, text in texts(rendered).items():
        assert text.strip(), name
        assert_clean(name, text)
    center = data["center"]
    for name in ["body"] if channel == "sms" else ["html", "text"]:
        assert center["name"] in texts(rendered)[name], name
        if channel == "sms" and SMS_SHORT_PART in version.sources[locale]:
            # The one-part SMS leaves the phone to the page it links to ("call the centre").
            assert rendered.sms is not None and rendered.sms.cp949_bytes <= SMS_MAX_BYTES
            assert data["appointment"]["link"] in rendered.body
        else:
            assert center["phone"] in texts(rendered)[name], name
    if channel == "sms":
        size = rendered.sms
        assert size is not None
        assert size.kr_class is not None
        assert size.kr_class == measure_sms(rendered.body).kr_class
        assert size.segments > 0
        assert size.unencodable == ()
    else:
        assert center["name"] in rendered.subject
        assert "\n" not in rendered.subject


@pytest.mark.parametrize(("version", "locale", "channel"), CASES)
def test_the_preview_api_shows_what_the_renderer_renders(
    client, editor, renderer, version, locale, channel
) -> None:
    rendered = renderer.render(version, channel, locale, sample(version, locale))
    response = client.post(
        f"/v1/templates/{version.key}/preview", json={"channel": channel, "locale": locale}, headers=editor
    )
    assert response.status_code == 200, response.json
    shown = response.json
    for name, text in texts(rendered).items():
        assert shown[name] == text, name
    if channel == "sms":
        assert shown["kr_class"] == measure_sms(shown["body"]).kr_class.value
        assert shown["cp949_bytes"] == len(shown["body"].encode("cp949"))
        assert shown["segments"] > 0
        assert shown["encoding"] in ("GSM-7", "UCS-2")


@pytest.mark.parametrize(("version", "locale", "channel"), CASES)
def test_an_advertising_preview_carries_the_legal_markings(
    client, editor, settings, version, locale, channel
) -> None:
    response = client.post(
        f"/v1/templates/{version.key}/preview",
        json={"channel": channel, "locale": locale, "advertising": True},
        headers=editor,
    )
    assert response.status_code == 200, response.json
    shown = response.json
    center_name = version.spec.sample_for(locale)["center"]["name"]
    if channel == "sms":
        assert shown["body"].startswith(f"{ADVERTISING_PREFIX}{center_name}")
        assert shown["body"].endswith(PREVIEW_OPT_OUT_LINE)
        assert shown["kr_class"] is not None  # the markings still fit
        assert_clean("body", shown["body"])
    else:
        assert shown["subject"].startswith(f"{ADVERTISING_PREFIX} ")
        unsubscribe = f"{settings.public_url}/u/preview"
        assert f'href="{unsubscribe}"' in shown["html"]
        assert shown["html"].index(unsubscribe) < shown["html"].index("</body>")
        assert unsubscribe in shown["text"]


@pytest.mark.parametrize("version", APPOINTMENT_TEMPLATES, ids=lambda v: v.key)
@pytest.mark.parametrize("kind", APPOINTMENT_KINDS)
def test_appointment_templates_render_for_every_kind(renderer, version, kind) -> None:
    for locale in version.sources:
        data = sample(version, locale)
        data["appointment"]["kind"] = kind
        for channel in version.spec.channels:
            rendered = renderer.render(version, channel, locale, data)
            for name, text in texts(rendered).items():
                assert_clean(name, text)
            if channel == "sms":
                assert rendered.sms is not None
                assert rendered.sms.kr_class is not None


@pytest.mark.parametrize("version", APPOINTMENT_TEMPLATES, ids=lambda v: v.key)
def test_every_kind_a_template_names_is_a_known_kind_with_its_own_text(renderer, version) -> None:
    for locale, parts in version.sources.items():
        for part, source in parts.items():
            named = set(re.findall(r"appointment\.kind\s*==\s*[\"'](\w+)[\"']", source))
            assert named <= set(APPOINTMENT_KINDS), f"{locale}/{part} names unknown kinds {named}"
        data = sample(version, locale)
        data["appointment"]["kind"] = "other"
        fallback = renderer.render(version, "sms", locale, data).body
        named = set(re.findall(r"appointment\.kind\s*==\s*[\"'](\w+)[\"']", parts["sms.txt"]))
        for kind in named:
            data["appointment"]["kind"] = kind
            assert renderer.render(version, "sms", locale, data).body != fallback, (locale, kind)
