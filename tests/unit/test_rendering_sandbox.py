"""Template injection and resource exhaustion: each attempt is refused or bounded."""

from pathlib import Path

import pytest

from notifier.domain.templates import TemplateSpec, TemplateVersion
from notifier.errors import MissingTemplateValues, TemplateRejected
from notifier.rendering import MAX_LOOP_ITERATIONS, MAX_OUTPUT_CHARS, Renderer

LAYOUT = Path(__file__).resolve().parents[2] / "templates" / "_layout"
SPEC = TemplateSpec(description="t", purpose="message", channels=("sms",), values={})


def render(source: str, data: dict | None = None) -> str:
    version = TemplateVersion("probe", abs(hash(source)) % 10**8, SPEC, {"ko": {"sms.txt": source}})
    return Renderer(LAYOUT).render_part(version, "ko", "sms.txt", data or {})


@pytest.mark.parametrize(
    "payload",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
        "{{ joiner.__init__.__globals__ }}",
        "{{ lipsum.__globals__['os'].environ }}",
        "{{ self._TemplateReference__context }}",
        "{{ request.application.__globals__ }}",
        "{{ config }}",
        "{% set x = [].append(1) %}",
        "{{ ().__class__.__base__.__subclasses__() }}",
    ],
)
def test_known_injection_payloads_are_refused(payload: str) -> None:
    with pytest.raises((TemplateRejected, MissingTemplateValues)):
        render(payload)


def test_huge_loops_are_bounded() -> None:
    with pytest.raises(TemplateRejected, match=r"range|loops"):
        render("{% for i in range(100000000) %}x{% endfor %}")
    with pytest.raises(TemplateRejected, match="loops"):
        render("{% for a in range(1000) %}{% for b in range(1000) %}{% endfor %}{% endfor %}")
    assert MAX_LOOP_ITERATIONS < 1000 * 1000


def test_nested_loops_over_one_range_without_calls_are_bounded() -> None:
    with pytest.raises(TemplateRejected, match="loops"):
        render(
            "{% set r = range(1000) %}"
            "{% for a in r %}{% for b in r %}{% for c in r %}{% endfor %}{% endfor %}{% endfor %}"
        )


def test_string_repetition_and_huge_powers_are_refused() -> None:
    with pytest.raises(TemplateRejected, match="repetition"):
        render("{{ 'a' * 100000000 }}")
    with pytest.raises(TemplateRejected, match="exponent"):
        render("{{ 9 ** 999999 }}")


def test_output_size_is_bounded() -> None:
    with pytest.raises(TemplateRejected, match="output"):
        render("{% for i in range(1000) %}{{ big }}{% endfor %}", {"big": "가" * 1000})
    assert MAX_OUTPUT_CHARS < 1000 * 1000


def test_deep_recursion_is_refused_not_crashing() -> None:
    source = "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"
    with pytest.raises(TemplateRejected):
        render(source)


def test_values_are_not_escaped_in_sms() -> None:
    assert render("{{ v }}", {"v": "<b>&</b>"}) == "<b>&</b>"


def test_undefined_values_raise_instead_of_rendering_blank() -> None:
    with pytest.raises(MissingTemplateValues) as error:
        render("안녕하세요 {{ name }}님")
    assert error.value.names == ["name"]


def test_a_template_error_on_unexpected_data_is_a_refusal_not_a_crash() -> None:
    with pytest.raises(TemplateRejected, match="ZeroDivisionError"):
        render("{{ 1 / n }}", {"n": 0})


def test_regional_locales_fall_back_to_their_language_then_korean() -> None:
    version = TemplateVersion("k", 1, SPEC, {"ko": {"sms.txt": "가"}, "en": {"sms.txt": "a"}})
    assert version.locale_for("en-US") == "en"
    assert version.locale_for("ja") == "ko"


def test_rendering_does_not_change_the_callers_data() -> None:
    from notifier.rendering import prepare_context

    spec = TemplateSpec("t", "message", ("sms",), {"a.b": "x", "a.c": "y"}, optional=frozenset({"a.c"}))
    data = {"a": {"b": 1}}
    prepare_context(spec, data)
    assert data == {"a": {"b": 1}}
