"""Save-time checks: each refuses one way a template could break a message at send time."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from notifier.domain.templates import TemplateSpec
from notifier.templates.checks import (
    check_key,
    check_part,
    check_sources,
    check_spec,
    sms_character_problems,
)
from notifier.templates.files import load_directory
from notifier.templates.rendering import Renderer

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
LAYOUTS = frozenset({"_layout/ko/email.html", "_layout/en/email.html"})
ENV = Renderer(TEMPLATES / "_layout").env

SPEC = TemplateSpec(
    description="취업박람회 안내",
    purpose="announcement",
    channels=("sms",),
    values={"fair.when": "start", "fair.place": "where", "fair.note": "extra line"},
    optional=frozenset({"fair.note"}),
    sample={"fair": {"when": "12월 10일(수) 오후 2시", "place": "센터 대강당"}},
)


def part_problems(source: str, part: str = "sms.txt", spec: TemplateSpec = SPEC) -> list[str]:
    errors = check_part(ENV, spec, "ko", part, source, LAYOUTS)
    assert all(e.pointer == f"/sources/ko/{part}" for e in errors)
    return [e.detail for e in errors]


# ---- keys ----------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["appointment_reminder", "job-fair-2026", "a", "x" * 100])
def test_keys_of_lowercase_letters_digits_and_dashes_are_accepted(key: str) -> None:
    assert check_key(key) == []


@pytest.mark.parametrize("key", ["", "Job_Fair", "job fair", "job/fair", "취업", "x" * 101, "a.b"])
def test_other_keys_are_refused(key: str) -> None:
    [error] = check_key(key)
    assert error.pointer == "/key"


# ---- the spec ------------------------------------------------------------------------


def test_a_complete_spec_passes() -> None:
    assert check_spec(SPEC) == []


def test_a_required_value_missing_from_the_sample_is_named_by_pointer() -> None:
    spec = replace(SPEC, sample={"fair": {"when": "12월 10일"}})
    [error] = check_spec(spec)
    assert error.pointer == "/sample/fair/place"
    assert "fair.place" in error.detail


def test_a_value_that_is_null_in_the_sample_counts_as_missing() -> None:
    spec = replace(SPEC, sample={"fair": {"when": "12월 10일", "place": None}})
    assert [e.pointer for e in check_spec(spec)] == ["/sample/fair/place"]


def test_optional_values_may_be_absent_from_the_sample() -> None:
    assert "note" not in SPEC.sample["fair"]
    assert check_spec(SPEC) == []


def test_the_english_sample_must_also_carry_every_required_value() -> None:
    spec = replace(SPEC, sample_en={"fair": {"when": "Wed, Dec 10"}})
    assert [e.pointer for e in check_spec(spec)] == ["/sample_en/fair/place"]


def test_optional_names_must_be_declared_values() -> None:
    spec = replace(SPEC, optional=frozenset({"fair.note", "fair.bus"}))
    [error] = check_spec(spec)
    assert error.pointer.startswith("/optional/")
    assert "fair.bus" in error.detail


@pytest.mark.parametrize(
    ("changes", "pointer"),
    [
        ({"purpose": "spam"}, "/purpose"),
        ({"channels": ()}, "/channels"),
        ({"channels": ("sms", "fax")}, "/channels/1"),
        ({"channels": ("sms", "sms")}, "/channels/1"),
    ],
)
def test_purpose_and_channels_are_checked(changes: dict, pointer: str) -> None:
    assert [e.pointer for e in check_spec(replace(SPEC, **changes))] == [pointer]


def test_value_names_must_be_dotted_identifiers() -> None:
    spec = replace(SPEC, values={**SPEC.values, "fair.bus stop": "x"}, sample={**SPEC.sample})
    assert "/values/fair.bus stop" in [e.pointer for e in check_spec(spec)]


# ---- the sources ---------------------------------------------------------------------

EMAIL_PARTS = {"email_subject.txt": "s", "email.html": "h", "email.txt": "t"}


def test_a_korean_variant_is_required() -> None:
    [error] = check_sources(SPEC, {"en": {"sms.txt": "Hello"}})
    assert error.pointer == "/sources"
    assert "'ko'" in error.detail


def test_every_locale_needs_every_part_of_every_listed_channel() -> None:
    spec = replace(SPEC, channels=("sms", "email"))
    sources = {
        "ko": {"sms.txt": "안녕", **EMAIL_PARTS},
        "en": {"sms.txt": "Hello", "email_subject.txt": "s", "email.html": "h"},
    }
    [error] = check_sources(spec, sources)
    assert error.pointer == "/sources/en/email.txt"
    assert "missing" in error.detail


def test_blank_parts_are_refused() -> None:
    [error] = check_sources(SPEC, {"ko": {"sms.txt": "  \n"}})
    assert (error.pointer, error.detail) == ("/sources/ko/sms.txt", "is empty")


def test_parts_of_channels_not_listed_are_refused_as_unused() -> None:
    errors = check_sources(SPEC, {"ko": {"sms.txt": "안녕", **EMAIL_PARTS}})
    assert {e.pointer for e in errors} == {f"/sources/ko/{p}" for p in EMAIL_PARTS}
    assert all("'email' is not in channels" in e.detail for e in errors)


def test_unknown_parts_and_locales_are_refused() -> None:
    errors = check_sources(SPEC, {"ko": {"sms.txt": "안녕", "push.txt": "x"}, "Korean": {"sms.txt": "x"}})
    assert {e.pointer for e in errors} == {"/sources/ko/push.txt", "/sources/Korean"}


# ---- compiling -----------------------------------------------------------------------


def test_a_syntax_error_names_its_line() -> None:
    [detail] = part_problems("안녕하세요.\n{{ fair.when }}\n{% if fair.note %}\n참고: {{ fair.note }}\n")
    assert detail.startswith("line 4: ")
    assert "endif" in detail


def test_an_unknown_filter_names_its_line() -> None:
    [detail] = part_problems("안녕하세요.\n{{ fair.when | shout }}")
    assert detail.startswith("line 2: ")
    assert "shout" in detail


# ---- names ---------------------------------------------------------------------------


def test_a_template_using_only_declared_values_passes() -> None:
    source = (
        "{{ recipient.name }}님, {{ center.name }}입니다.\n"
        "{{ fair.when }} {{ fair.place }}{% if fair.note %} ({{ fair.note }}){% endif %}\n"
        "문의: {{ center.phone }} {{ center.address }}"
    )
    assert part_problems(source) == []


def test_an_undeclared_value_is_refused_with_its_line() -> None:
    assert part_problems("{{ fair.when }}\n{{ fair.place }}\n{{ bus_route }}") == [
        "line 3: 'bus_route' is not declared in values"
    ]


def test_an_undeclared_sub_key_of_a_declared_value_is_refused() -> None:
    problems = part_problems("{{ fair.when }}\n{{ fair.hall }}")
    assert problems == ["line 2: 'fair.hall' is not declared in values"]


def test_subscript_access_counts_like_attribute_access() -> None:
    assert part_problems("{{ fair['when'] }}") == []
    assert part_problems("{{ fair['hall'] }}") == ["line 1: 'fair.hall' is not declared in values"]


def test_recipient_fields_beyond_the_name_must_be_declared() -> None:
    assert part_problems("{{ recipient.email }}") == ["line 1: 'recipient.email' is not declared in values"]
    spec = replace(SPEC, values={**SPEC.values, "recipient.email": "address"})
    assert part_problems("{{ recipient.email }}", spec=spec) == []


def test_a_declared_value_may_be_used_whole_or_through_its_methods() -> None:
    assert part_problems("{% if fair %}{{ fair.when.strip() }}{% endif %}") == []


def test_inside_a_value_declared_whole_its_shape_is_the_callers() -> None:
    spec = replace(SPEC, values={"fair": "the fair as an object"}, optional=frozenset(), sample={"fair": {}})
    assert part_problems("{{ fair.when }} {{ fair.hall.floor }}", spec=spec) == []


def test_loop_variables_set_variables_and_macro_arguments_are_not_values() -> None:
    source = (
        "{% set greeting = '안녕하세요' %}{{ greeting }}\n"
        "{% for i in range(2) %}{{ loop.index }}{{ i.real }}{% endfor %}\n"
        "{% macro line(label, text) %}{{ label }}: {{ text }}{% endmacro %}{{ line('일시', fair.when) }}"
    )
    assert part_problems(source) == []


def test_each_undeclared_name_is_reported_once_at_its_first_line() -> None:
    assert part_problems("{{ bus }}\n{{ bus }}\n{{ fair.hall }}{{ fair.hall.floor }}") == [
        "line 1: 'bus' is not declared in values",
        "line 3: 'fair.hall' is not declared in values",
    ]


# ---- template references -------------------------------------------------------------


def test_the_shared_layout_may_be_extended() -> None:
    source = '{% extends "_layout/ko/email.html" %}{% block content %}{{ fair.when }}{% endblock %}'
    assert part_problems(source, part="email.html") == []


@pytest.mark.parametrize(
    "source",
    [
        '{% extends "appointment_reminder@1/ko/email.html" %}',
        '{% include "appointment_reminder@1/ko/sms.txt" %}',
        '{% import "appointment_reminder@1/ko/sms.txt" as other %}',
        "{% extends fair.when %}",
    ],
)
def test_other_templates_may_not_be_pulled_in(source: str) -> None:
    [detail] = part_problems(source, part="email.html")
    assert detail.startswith("line 1: only a shared layout")


def test_a_layout_that_does_not_exist_is_refused() -> None:
    [detail] = part_problems('{% extends "_layout/ja/email.html" %}', part="email.html")
    assert "no layout '_layout/ja/email.html'" in detail


# ---- SMS characters ------------------------------------------------------------------


def test_characters_cp949_cannot_carry_are_refused_with_line_and_column() -> None:
    problems = part_problems("{{ fair.when }}\n• 장소: {{ fair.place }} 🎉")
    assert problems == [
        "line 2: SMS cannot carry '•' (U+2022) at column 1; write '·' instead",
        "line 2: SMS cannot carry '🎉' (U+1F389) at column 24",
    ]


def test_invisible_characters_are_refused_with_advice_to_remove_them() -> None:
    [problem] = sms_character_problems("안녕\u200b하세요")
    assert problem == "line 1: SMS cannot carry '\\u200b' (U+200B) at column 3; remove it"


def test_korean_text_and_the_usual_symbols_pass() -> None:
    assert sms_character_problems("안녕하세요 · ※ ① ☎ ￦1,000 똠방각하 (광고)") == []


def test_email_parts_may_carry_any_character() -> None:
    assert part_problems("🎉 {{ fair.when }} • résumé", part="email.txt") == []


# ---- the shipped templates -----------------------------------------------------------


@pytest.mark.parametrize("version", load_directory(TEMPLATES), ids=lambda v: v.key)
def test_every_shipped_template_passes_the_checks_an_edit_must_pass(version) -> None:
    assert check_spec(version.spec) == []
    assert check_sources(version.spec, version.sources) == []
    for locale, parts in version.sources.items():
        for part, source in parts.items():
            assert check_part(ENV, version.spec, locale, part, source, LAYOUTS) == []


def test_one_of_groups_name_optional_values_and_the_sample_gives_one_of_each() -> None:
    values = {**SPEC.values, "fair.starts_at": "ISO start"}
    good = replace(
        SPEC,
        values=values,
        optional=frozenset({"fair.note", "fair.when", "fair.starts_at"}),
        one_of=(("fair.when", "fair.starts_at"),),
    )
    assert check_spec(good) == []
    not_optional = replace(good, optional=frozenset({"fair.note", "fair.starts_at"}))
    assert [e.pointer for e in check_spec(not_optional)] == ["/one_of/0/0"]
    alone = replace(good, one_of=(("fair.when", "fair.when"),))
    assert [e.pointer for e in check_spec(alone)] == ["/one_of/0"]
    lacking = replace(good, sample={"fair": {"place": "센터 대강당"}})
    [error] = check_spec(lacking)
    assert error.pointer == "/sample" and "'fair.when' or 'fair.starts_at'" in error.detail
