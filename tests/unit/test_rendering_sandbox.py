"""Template injection and resource exhaustion: each attempt is refused or bounded."""

import tracemalloc
from pathlib import Path

import pytest

from notifier.domain.templates import TemplateSpec, TemplateVersion
from notifier.errors import MissingTemplateValues, TemplateRejected
from notifier.templates.limits import (
    MAX_BINOP_LENGTH,
    MAX_INT_BITS,
    MAX_JSON_INDENT,
    MAX_LOOP_ITERATIONS,
    MAX_OUTPUT_CHARS,
    MAX_VALUE_CHARS,
)
from notifier.templates.rendering import Renderer

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


HUGE = 10**8  # a width that would allocate ~100 MB if it were honoured
FEW_VALUES = 20 * MAX_VALUE_CHARS  # bytes: a few copies of the longest allowed value, never the huge one


def refusal_peak_bytes(source: str, match: str) -> int:
    """Render ``source``, expect it refused, and return the most memory the attempt held."""
    tracemalloc.start()
    try:
        with pytest.raises(TemplateRejected, match=match):
            render(source)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    "payload",
    [
        '{{ "x"|center(HUGE) }}',
        '{{ "a".ljust(HUGE) }}',
        '{{ "a".rjust(HUGE, "-") }}',
        '{{ "a".center(width=HUGE) }}',
        '{{ "1".zfill(HUGE) }}',
        '{{ "a\tb".expandtabs(HUGE) }}',
        '{{ "%0HUGEd" % 1 }}',
        '{{ "%-HUGEs" % "a" }}',
        '{{ "%.HUGEf" % 1.5 }}',
        '{{ "%(n)HUGEd" % {"n": 1} }}',
        '{{ "%*d" % (HUGE, 1) }}',
        '{{ "%0HUGEd"|format(1) }}',
        '{{ "{:>HUGE}".format(1) }}',
        '{{ "{:.HUGEf}".format(1.5) }}',
        '{{ "{:>{}}".format(1, HUGE) }}',
        '{{ "{x:>HUGE}".format_map({"x": 1}) }}',
        '{{ ("{:>HUGE}"|safe).format(1) }}',
        '{{ "a\nb"|indent(HUGE) }}',
        "{{ [1]|batch(HUGE, 0)|list }}",
        "{{ [1]|slice(HUGE)|list }}",
        '{{ ["a"]|map("center", HUGE)|list }}',
        "{% filter center(HUGE) %}x{% endfilter %}",
    ],
)
def test_huge_widths_precisions_and_counts_are_refused_before_the_value_is_built(payload: str) -> None:
    assert refusal_peak_bytes(payload.replace("HUGE", str(HUGE)), "width or count") < FEW_VALUES


def test_widths_up_to_the_limit_still_render() -> None:
    assert len(render(f'{{{{ "x"|center({MAX_BINOP_LENGTH}) }}}}')) == MAX_BINOP_LENGTH
    assert len(render(f'{{{{ "{{:>{MAX_BINOP_LENGTH}}}".format(1) }}}}')) == MAX_BINOP_LENGTH
    source = '{{ "%05d" % 7 }}|{{ "{:>4}".format(7) }}|{{ "%-3s|"|format("a") }}{{ "ab cd"|wordwrap(2) }}'
    assert render(source) == "00007|   7|a  |ab\ncd"
    assert render('{{ "{n:,}원".format_map({"n": 12000}) }}') == "12,000원"


def test_tojson_indent_is_bounded() -> None:
    assert render(f"{{{{ [1]|tojson({MAX_JSON_INDENT}) }}}}") == "[\n" + " " * MAX_JSON_INDENT + "1\n]"
    with pytest.raises(TemplateRejected, match="indent"):
        render(f"{{{{ [1, 2, 3]|tojson({HUGE}) }}}}")


BIG = '{% set a = "x" * 10000 %}'  # as long as `*` may make a value


@pytest.mark.parametrize(
    "payload",
    [
        BIG + "{% set a = a ~ a %}" * 5 + "{{ a|length }}",
        BIG + "{% set a = a + a %}" * 5 + "{{ a|length }}",
        BIG + "{{ ([a] * 10000)|join|length }}",
        BIG + "{{ ''.join([a] * 10000)|length }}",
        BIG + "{{ range(100)|map('center', 10000)|join|length }}",
        BIG + "{{ a|replace('', a)|length }}",
        BIG + "{{ a.replace('x', a)|length }}",
        BIG + "{{ a.translate({120: a})|length }}",
        BIG + "{% set b = [a, a, a, a, a, a, a, a, a, a] %}{% set c = [b, b, b] %}{{ c|length }}",
        BIG + "{% set b = {'k': [a] * 30} %}{{ b|length }}",
        BIG + "{{ ('{0}' * 100).format(a)|length }}",
        BIG + "{{ (('%(a)s' * 100) % {'a': a})|length }}",
        BIG + "{{ a|wordwrap(1, wrapstring=a)|length }}",
        BIG + "{{ a|wordwrap(2, wrapstring=' www.x.')|urlize(target=a)|length }}",
        BIG + "{{ ('\t' * 1000 ~ a).expandtabs(1000)|length }}",
        BIG + "{{ ('\n' * 1000)|indent(1000)|length }}",
        BIG + "{% macro m() %}{% for i in range(100) %}{{ a }}{% endfor %}{% endmacro %}{{ m()|length }}",
        BIG + "{% set b %}{% for i in range(100) %}{{ a }}{% endfor %}{% endset %}{{ b|length }}",
        '{% set a = "\\\\" * 5000 %}{{ a|tojson|tojson|tojson|tojson|tojson|tojson|length }}',
    ],
)
def test_values_cannot_grow_past_the_value_limit(payload: str) -> None:
    assert refusal_peak_bytes(payload, "value may be at most") < FEW_VALUES


def test_values_up_to_the_limit_are_allowed() -> None:
    assert render(BIG + "{% set a = a ~ a %}" * 4 + "{{ a|length }}") == str(16 * 10_000)
    assert MAX_VALUE_CHARS >= 16 * 10_000
    assert render("{{ ['a', 'b']|join(', ') }} {{ 'a' ~ 1 ~ [2] }} {{ {'k': (1, 2)}|tojson }}") == (
        'a, b a1[2] {"k": [1, 2]}'
    )


def test_the_format_limit_counts_each_call_on_its_own() -> None:
    source = '{% set f = "{}".format %}{% for i in range(100) %}{% set v = f(a) %}{% endfor %}ok'
    assert render(source, {"a": "x" * 5000}) == "ok"


def test_concatenation_escapes_in_html_as_jinja_does() -> None:
    source = '{{ "<b>" ~ x }}|{{ "<p>"|safe ~ x }}|{% set y %}<u>{{ x }}</u>{% endset %}{{ y }}'
    version = TemplateVersion("probe-html", 1, SPEC, {"ko": {"email.html": source}})
    html = Renderer(LAYOUT).render_part(version, "ko", "email.html", {"x": "<i>"})
    assert html == "&lt;b&gt;&lt;i&gt;|<p>&lt;i&gt;|<u>&lt;i&gt;</u>"


def test_running_out_of_memory_is_a_refused_template_not_a_crash() -> None:
    def exhausting(value: object) -> str:
        raise MemoryError

    renderer = Renderer(LAYOUT)
    renderer.env.filters["exhausting"] = exhausting  # stands in for a way round the limits above
    version = TemplateVersion("probe-memory", 1, SPEC, {"ko": {"sms.txt": "{{ 1|exhausting }}"}})
    with pytest.raises(TemplateRejected, match="memory"):
        renderer.render_part(version, "ko", "sms.txt", {})


@pytest.mark.parametrize(
    "payload",
    ["{% set a = 9 ** 64 %}" + "{% set a = a ** 64 %}" * 3, "{% set a = 9 %}" + "{% set a = a * a %}" * 12],
)
def test_numbers_cannot_grow_by_repeated_powers_or_squares(payload: str) -> None:
    assert refusal_peak_bytes(payload + "{{ a > 0 }}", f"at most {MAX_INT_BITS} bits") < FEW_VALUES
    assert render("{{ 2 ** 64 * 3 }}") == str(2**64 * 3)


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
    from notifier.templates.rendering import prepare_context

    spec = TemplateSpec("t", "message", ("sms",), {"a.b": "x", "a.c": "y"}, optional=frozenset({"a.c"}))
    data = {"a": {"b": 1}}
    prepare_context(spec, data)
    assert data == {"a": {"b": 1}}


def test_display_filters_show_iso_times_and_minutes_in_korean_by_default() -> None:
    source = "{{ t | when }} / {{ t | date }} / {{ t | time }} / {{ m | duration }}"
    shown = render(source, {"t": "2026-12-03T05:30:00+00:00", "m": "75"})
    assert shown == "12월 3일(목) 오후 2시 30분 / 12월 3일(목) / 오후 2시 30분 / 1시간 15분"


def test_display_filters_use_the_zone_and_locale_the_renderer_gives() -> None:
    data = {"t": "2026-12-03T05:00:00Z", "m": 60, "_zone": "America/New_York", "_locale": "en"}
    assert render("{{ t | when }}, {{ m | duration }}", data) == "Thu 3 Dec, 12:00 AM, 1 hour"


@pytest.mark.parametrize(
    ("source", "data"),
    [
        ("{{ t | when }}", {"t": "2026-12-03T14:00:00"}),  # no offset: the zone would be a guess
        ("{{ t | when }}", {"t": "next thursday"}),
        ("{{ t | when }}", {"t": "2" * 100_000}),
        ("{{ m | duration }}", {"m": -5}),
        ("{{ m | duration }}", {"m": "²"}),
        ("{{ m | duration }}", {"m": 10**100}),
    ],
)
def test_display_filters_refuse_values_they_cannot_show(source, data) -> None:
    with pytest.raises(TemplateRejected):
        render(source, data)
