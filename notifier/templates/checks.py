"""Save-time checks: refuse a template version that would break a message when it is sent.

Threat: templates are edited through the API, so a typo in a tag, a value no caller sends, or a
character handsets show as ``?`` would otherwise surface only at send time, in front of a
recipient. Each check is a small function returning ``FieldError`` entries whose pointer names
the part (``/sources/ko/sms.txt``) and whose detail starts with ``line N:`` when there is a line.

What is checked here, without I/O (parsing needs the renderer's Jinja environment, passed in):

- the key, the spec (purpose, channels, declared values against the sample) and the sources
  (``ko`` present, every listed channel complete in every locale, nothing unused);
- every part compiles in the sandbox, references only shared layouts, and uses only declared
  values (top-level names, and dotted access such as ``appointment.when``);
- SMS parts (``sms.txt``, the optional one-part ``sms_short.txt``, the AlimTalk text) contain
  only characters cp949 can encode.

Rendering each locale and channel with the sample data needs the renderer itself, so it lives
in ``notifier.templates.library``.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping
from typing import Any

import jinja2
from jinja2 import meta, nodes

from notifier.domain import alimtalk
from notifier.domain.sms import CP949_REPLACEMENTS, find_unencodable
from notifier.domain.templates import (
    ALIMTALK_PART,
    CHANNEL_PARTS,
    DEFAULT_LOCALE,
    PARTS,
    PURPOSES,
    SMS_SHORT_PART,
    TemplateSpec,
)
from notifier.errors import FieldError

KEY_PATTERN = re.compile(r"^[a-z0-9_\-]{1,100}$")
LOCALE_PATTERN = re.compile(r"^[a-z]{2}(-[A-Z]{2})?$")
VALUE_NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
MAX_SOURCE_CHARS = 50_000
LAYOUT_PREFIX = "_layout/"

# The renderer always puts these in the context (see rendering.prepare_context).
ALWAYS_DECLARED = frozenset(
    {"center.name", "center.phone", "center.address", "center.reply_to", "recipient.name"}
)
# Names Jinja itself provides inside templates, blocks, loops and macros.
JINJA_NAMES = frozenset({"self", "super", "loop", "caller", "varargs", "kwargs"})


def pointer(*parts: str) -> str:
    """Build a JSON pointer from raw parts, escaping '~' and '/'."""
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)


def check_key(key: str) -> list[FieldError]:
    """Refuse a template key that is not 1-100 of a-z, 0-9, '_' and '-'."""
    if KEY_PATTERN.fullmatch(key):
        return []
    return [FieldError("/key", f"{key!r} is not a template key: use 1-100 of a-z, 0-9, '_', '-'")]


def check_spec(spec: TemplateSpec) -> list[FieldError]:
    """Check purpose, channels and declared values, and that the samples carry every required value."""
    errors: list[FieldError] = []
    if spec.purpose not in PURPOSES:
        errors.append(FieldError("/purpose", f"must be one of {', '.join(sorted(PURPOSES))}"))
    if not spec.channels:
        errors.append(FieldError("/channels", "name at least one channel"))
    for i, channel in enumerate(spec.channels):
        if channel not in CHANNEL_PARTS:
            errors.append(FieldError(f"/channels/{i}", f"unknown channel {channel!r}"))
        elif channel in spec.channels[:i]:
            errors.append(FieldError(f"/channels/{i}", f"{channel!r} is listed twice"))
    for name in spec.values:
        if not VALUE_NAME_PATTERN.fullmatch(name):
            errors.append(FieldError(pointer("values", name), "not a dotted name such as 'appointment.when'"))
    for i, name in enumerate(sorted(spec.optional)):
        if name not in spec.values:
            errors.append(FieldError(f"/optional/{i}", f"{name!r} is not declared in values"))
    for i, group in enumerate(spec.one_of):
        for j, name in enumerate(group):
            if name not in spec.optional:
                errors.append(FieldError(f"/one_of/{i}/{j}", f"{name!r} must be declared optional"))
        if len(set(group)) < 2:
            errors.append(FieldError(f"/one_of/{i}", "name two or more different values"))
    samples = [("sample", spec.sample)]
    if spec.sample_en is not None:
        samples.append(("sample_en", spec.sample_en))
    required = [n for n in spec.values if n not in spec.optional and VALUE_NAME_PATTERN.fullmatch(n)]
    for field, sample in samples:
        for name in required:
            if lookup(sample, name) is None:
                where = pointer(field, *name.split("."))
                errors.append(FieldError(where, f"the sample lacks the required value {name!r}"))
        for i, group in enumerate(spec.one_of):
            if all(lookup(sample, name) is None for name in group):
                names = " or ".join(repr(name) for name in group)
                errors.append(FieldError(f"/{field}", f"the sample lacks {names} (one of /one_of/{i})"))
    return errors


def lookup(data: Mapping[str, Any], dotted: str) -> Any:
    """Return the value at ``dotted`` in nested mappings, or None when it is absent."""
    value: Any = data
    for part in dotted.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def check_sources(spec: TemplateSpec, sources: Mapping[str, Mapping[str, str]]) -> list[FieldError]:
    """Require a ``ko`` variant and, in every locale, every part of every listed channel and no other."""
    errors: list[FieldError] = []
    if DEFAULT_LOCALE not in sources:
        errors.append(FieldError("/sources", f"a Korean ({DEFAULT_LOCALE!r}) variant is required"))
    wanted = {part: channel for channel in spec.channels for part in CHANNEL_PARTS.get(channel, ())}
    for locale, parts in sources.items():
        if not LOCALE_PATTERN.fullmatch(locale):
            errors.append(FieldError(pointer("sources", locale), "not a locale such as 'ko' or 'en'"))
            continue
        for part in PARTS:
            where = pointer("sources", locale, part)
            source = parts.get(part)
            if part == ALIMTALK_PART and (source is not None or locale in spec.alimtalk):
                errors += _alimtalk_part_problems(spec, locale, source, where)
                continue
            if part == SMS_SHORT_PART and source is not None and "sms" not in spec.channels:
                errors.append(FieldError(where, "not used: 'sms' is not in channels"))
                continue
            if source is None:
                if part in wanted:
                    needs = f"missing: the {wanted[part]} channel needs it in every locale"
                    errors.append(FieldError(where, needs))
            elif part not in wanted and part != SMS_SHORT_PART:  # the short SMS is optional
                channel = next(c for c, ps in CHANNEL_PARTS.items() if part in ps)
                errors.append(FieldError(where, f"not used: {channel!r} is not in channels"))
            elif not source.strip():
                errors.append(FieldError(where, "is empty"))
            elif len(source) > MAX_SOURCE_CHARS:
                errors.append(FieldError(where, f"longer than {MAX_SOURCE_CHARS:,} characters"))
        for part in parts:
            if part not in PARTS:
                where = pointer("sources", locale, part)
                errors.append(FieldError(where, f"unknown part; parts are {', '.join(PARTS)}"))
    return errors


def _alimtalk_part_problems(
    spec: TemplateSpec, locale: str, source: str | None, where: str
) -> list[FieldError]:
    if locale not in spec.alimtalk:
        return [FieldError(where, f"not used: /alimtalk has no {locale!r} variant")]
    if source is None:
        return [FieldError(where, f"missing: /alimtalk/{locale} needs the AlimTalk text")]
    if not source.strip():
        return [FieldError(where, "is empty")]
    return []


NO_FALLBACK_TEXT = (
    "missing: a locale with an AlimTalk variant needs its SMS text, which SOLAPI sends as SMS/LMS "
    "(대체발송) to a person the AlimTalk cannot reach"
)


def check_alimtalk(spec: TemplateSpec, sources: Mapping[str, Mapping[str, str]]) -> list[FieldError]:
    """Check each AlimTalk variant, and that its text is the approved one apart from #{변수} values."""
    errors: list[FieldError] = []
    for locale, variant in spec.alimtalk.items():
        at = f"/alimtalk/{locale}"
        if not variant.template_id.strip() or len(variant.template_id) > 100:
            errors.append(
                FieldError(f"{at}/template_id", "give the template id Kakao approved (1 to 100 characters)")
            )
        if not variant.registered_text.strip():
            errors.append(FieldError(f"{at}/registered_text", "give the text exactly as Kakao approved it"))
        elif len(variant.registered_text) > alimtalk.MAX_TEXT_CHARS:
            errors.append(
                FieldError(f"{at}/registered_text", f"longer than {alimtalk.MAX_TEXT_CHARS} characters")
            )
        if len(variant.buttons) > alimtalk.MAX_BUTTONS:
            errors.append(FieldError(f"{at}/buttons", f"at most {alimtalk.MAX_BUTTONS} buttons"))
        for i, button in enumerate(variant.buttons):
            if not 1 <= len(button.name) <= alimtalk.MAX_BUTTON_NAME_CHARS:
                limit = alimtalk.MAX_BUTTON_NAME_CHARS
                errors.append(FieldError(f"{at}/buttons/{i}/name", f"1 to {limit} characters, as approved"))
            if button.type not in alimtalk.BUTTON_TYPES:
                errors.append(FieldError(f"{at}/buttons/{i}/type", "only web links ('WL') are sent"))
            if not button.link.strip():
                errors.append(
                    FieldError(f"{at}/buttons/{i}/link", "give the link (Jinja, e.g. {{ appointment.link }})")
                )
        if not sources.get(locale, {}).get("sms.txt"):
            errors.append(FieldError(pointer("sources", locale, "sms.txt"), NO_FALLBACK_TEXT))
        source = sources.get(locale, {}).get(ALIMTALK_PART)
        if source is None or not variant.registered_text.strip():
            continue
        for wrong in alimtalk.mismatches(variant.registered_text, source):
            errors.append(
                FieldError(
                    pointer("sources", locale, ALIMTALK_PART),
                    f"line {wrong.line}: differs from the registered AlimTalk text apart from its #{{변수}} "
                    f"values (registered: {wrong.registered!r}; template: {wrong.template!r})",
                )
            )
    return errors


def check_part(
    env: jinja2.Environment,
    spec: TemplateSpec,
    locale: str,
    part: str,
    source: str,
    layouts: Collection[str],
) -> list[FieldError]:
    """Compile one part and check its template references, its names and (SMS) its characters."""
    where = pointer("sources", locale, part)
    try:
        env.compile(source)
        tree = env.parse(source)
    except jinja2.TemplateSyntaxError as exc:
        return [FieldError(where, f"line {exc.lineno}: {exc.message or 'syntax error'}")]
    errors = [FieldError(where, d) for d in template_reference_problems(tree, layouts)]
    errors += [FieldError(where, d) for d in undeclared_names(tree, spec, env)]
    if part in ("sms.txt", SMS_SHORT_PART, ALIMTALK_PART):  # SOLAPI's fallback SMS carries the AlimTalk text
        errors += [FieldError(where, d) for d in sms_character_problems(source)]
    return errors


_REFERENCES = (nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)


def template_reference_problems(tree: nodes.Template, layouts: Collection[str]) -> list[str]:
    """Allow ``extends``/``include``/``import`` of the shared layouts only, by literal name.

    Any other reference would pull in source the name check cannot see.
    """
    problems = []
    for node in tree.find_all(_REFERENCES):
        assert isinstance(node, _REFERENCES)
        name = node.template.value if isinstance(node.template, nodes.Const) else None
        if not isinstance(name, str) or not name.startswith(LAYOUT_PREFIX):
            problems.append(
                f"line {node.lineno}: only a shared layout such as '_layout/ko/email.html' may be used"
            )
        elif name not in layouts:
            known = ", ".join(sorted(layouts)) or "none"
            problems.append(f"line {node.lineno}: there is no layout {name!r} (known: {known})")
    return problems


def undeclared_names(tree: nodes.Template, spec: TemplateSpec, env: jinja2.Environment) -> list[str]:
    """Report every value the template reads that ``spec.values`` does not declare."""
    declared = set(spec.values) | ALWAYS_DECLARED
    roots = {name.split(".")[0] for name in declared}
    free = meta.find_undeclared_variables(tree) - JINJA_NAMES - set(env.globals)
    problems: dict[str, int] = {}
    for node in tree.find_all(nodes.Name):
        if node.ctx == "load" and node.name in free and node.name not in roots:
            problems.setdefault(node.name, node.lineno)
    # Dotted access is checked only on free names: a name the template assigns anywhere
    # ({% set %}, a loop target, a macro argument) may hold anything.
    assigned = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
    for path, lineno in _access_paths(tree):
        root = path.split(".")[0]
        if root in free and root in roots and root not in assigned and not _is_declared(path, declared):
            problems.setdefault(path, lineno)
    reported = sorted(problems, key=lambda p: (problems[p], p))
    return [
        f"line {problems[path]}: {path!r} is not declared in values"
        for path in reported
        if not any(path.startswith(other + ".") for other in problems)
    ]


def _is_declared(path: str, declared: Collection[str]) -> bool:
    # 'appointment' leads to declared values; inside a declared value its shape is the caller's.
    return any(d == path or d.startswith(path + ".") or path.startswith(d + ".") for d in declared)


def _access_paths(tree: nodes.Template) -> Iterator[tuple[str, int]]:
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        path = _dotted(node)
        if path is not None:
            yield path, node.lineno


def _dotted(node: nodes.Node) -> str | None:
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        base = _dotted(node.node)
        return f"{base}.{node.attr}" if base else None
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        base = _dotted(node.node)
        key = node.arg.value
        return f"{base}.{key}" if base and isinstance(key, str) else None
    return None


def sms_character_problems(source: str) -> list[str]:
    """Refuse characters cp949 cannot encode, so what is stored is exactly what is sent."""
    problems = []
    for bad in find_unencodable(source):
        hint = ""
        if bad.char in CP949_REPLACEMENTS:
            stand_in = CP949_REPLACEMENTS[bad.char]
            hint = f"; write {stand_in!r} instead" if stand_in else "; remove it"
        problems.append(
            f"line {bad.line}: SMS cannot carry {bad.char!r} (U+{ord(bad.char):04X}) "
            f"at column {bad.column}{hint}"
        )
    return problems
