"""Sandboxed Jinja2 rendering: a template version plus data becomes a RenderedMessage.

Threat model: template sources are edited through the API, so a template is untrusted code.
Jinja's ``ImmutableSandboxedEnvironment`` already stops access to Python internals
(``__class__``, ``__globals__``, ...) and mutation of values. It does not bound work or memory,
so this module adds the limits below, each a named constant with a test that tries to break it:

- every ``{% for %}`` iterates through a counter (``MAX_LOOP_ITERATIONS`` per render);
- ``range()`` yields at most ``MAX_RANGE`` items; ``*`` and ``**`` may not build huge values
  (numbers have at most ``MAX_INT_BITS`` bits);
- a width, precision or count (``"%09999999d"``, ``"{:>99999999}"``, ``|center(N)``,
  ``.ljust(N)``, ``|batch(N)``, ...) is at most ``MAX_BINOP_LENGTH``, checked before the value
  is built; ``|tojson`` indents by at most ``MAX_JSON_INDENT``;
- every value a template makes (a filter's, a call's or an operator's result, a ``~``
  concatenation, a list or dict literal, a ``{% set %}`` block or macro body) prints as at most
  ``MAX_VALUE_CHARS`` characters. Joins, replacements, indents and wraps are estimated before they
  run; other results are checked as they are made, so no chain of steps can grow a value
  exponentially (``{% set a = a ~ a %}`` twenty times, ``|tojson|tojson|...``);
- the output is streamed and cut at ``MAX_OUTPUT_CHARS``;
- a render that runs past ``RENDER_DEADLINE_SECONDS`` is stopped;
- recursion (macros calling themselves) ends in a clear error, not a crashed worker, and a
  ``MemoryError`` is a refused template, not a server error;
- the only globals are ``range``, ``dict`` and ``loop`` helpers Jinja itself needs.

Values are escaped in HTML parts and never in SMS or plain text.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import re
import time
import types
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.nodes import EvalContext
from jinja2.runtime import markup_join, str_join
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedFormatter
from jinja2.visitor import NodeTransformer
from markupsafe import EscapeFormatter, Markup

MAX_LOOP_ITERATIONS = 10_000
MAX_RANGE = 1_000
MAX_OUTPUT_CHARS = 200_000
MAX_CALLS = 20_000
MAX_BINOP_LENGTH = 10_000  # also the largest width, precision or count a template may ask for
MAX_VALUE_CHARS = MAX_OUTPUT_CHARS  # a longer value could never be sent anyway
MAX_JSON_INDENT = 8
MAX_INT_BITS = 4096  # far beyond any number a message shows
RENDER_DEADLINE_SECONDS = 2.0

ALWAYS_PRESENT = frozenset({"center", "recipient"})


class RenderBudgetExceeded(Exception):
    """A template tried to do more work than one message may take."""


@dataclass
class Budget:
    deadline: float
    iterations: int = 0
    calls: int = 0
    output: int = 0

    def check(self) -> None:
        if time.monotonic() > self.deadline:
            raise RenderBudgetExceeded(f"rendering took longer than {RENDER_DEADLINE_SECONDS}s")


render_budget: contextvars.ContextVar[Budget | None] = contextvars.ContextVar("render_budget", default=None)


def _current_budget() -> Budget:
    budget = render_budget.get()
    if budget is None:  # rendering outside render_part(): still bounded
        budget = Budget(deadline=time.monotonic() + RENDER_DEADLINE_SECONDS)
        render_budget.set(budget)
    return budget


def _bounded(iterable: Iterable[Any]) -> Iterator[Any]:
    budget = _current_budget()
    for item in iterable:
        budget.iterations += 1
        if budget.iterations > MAX_LOOP_ITERATIONS:
            raise RenderBudgetExceeded(f"loops may run at most {MAX_LOOP_ITERATIONS} times")
        if budget.iterations % 256 == 0:
            budget.check()
        yield item


def bounded_range(*args: int) -> range:
    rng = range(*args)
    if len(rng) > MAX_RANGE:
        raise RenderBudgetExceeded(f"range() may yield at most {MAX_RANGE} items")
    return rng


# ---- size predicates: each refuses before the big value exists -------------------------------


def _printed_size(value: Any) -> int:
    """Estimate how many characters ``value`` prints as; stop counting past MAX_VALUE_CHARS."""
    size = 0
    pending = [value]
    while pending and size <= MAX_VALUE_CHARS:
        item = pending.pop()
        if isinstance(item, str):
            size += len(item)
        elif isinstance(item, list | tuple | set | frozenset):
            size += 2 + len(item)
            pending.extend(item)
        elif isinstance(item, Mapping):
            size += 2 + len(item)
            pending.extend(item.keys())
            pending.extend(item.values())
        else:
            size += 1
    return size


def _check_size(size: int) -> None:
    if size > MAX_VALUE_CHARS:
        raise RenderBudgetExceeded(f"a value may be at most {MAX_VALUE_CHARS:,} characters long")


def _checked(value: Any) -> Any:
    """Return ``value`` if it prints as at most MAX_VALUE_CHARS characters."""
    _check_size(_printed_size(value))
    return value


def _check_width(number: Any) -> None:
    """Refuse a width, precision or count that would pad or split into a huge value."""
    if isinstance(number, int) and abs(number) > MAX_BINOP_LENGTH:
        raise RenderBudgetExceeded(f"a width or count may be at most {MAX_BINOP_LENGTH:,}")


def _check_digits(digits: str) -> None:
    if len(digits) > len(str(MAX_BINOP_LENGTH)) or int(digits) > MAX_BINOP_LENGTH:
        raise RenderBudgetExceeded(f"a width or count may be at most {MAX_BINOP_LENGTH:,}")


_PRINTF_FIELD = re.compile(r"%%|%(?:\([^)]*\))?[-+ #0]*(\*|\d+)?(?:\.(\*|\d+))?")
_SPEC_NUMBER = re.compile(r"\d+")


def _check_printf(template: str, values: Any) -> None:
    """Refuse a ``%`` format whose widths, or repeated values, would build a huge string."""
    fields = 0
    star = False
    for match in _PRINTF_FIELD.finditer(template):
        if match.group(0) == "%%":
            continue
        fields += 1
        for number in match.groups():
            if number == "*":
                star = True
            elif number is not None:
                _check_digits(number)
    if star:  # '%*d' takes its width from the values
        for value in values if isinstance(values, tuple) else (values,):
            _check_width(value)
    # Each value in a tuple is used once; a single value or a mapping may be used by every field.
    used = 1 if isinstance(values, tuple) else fields
    _check_size(len(template) + used * _printed_size(values))


def _check_format_spec(spec: str) -> None:
    """Refuse a ``str.format`` spec (``>99999999``, ``.99999999f``) with a huge width or precision."""
    for digits in _SPEC_NUMBER.findall(spec):
        _check_digits(digits)


def _check_joined(items: Sequence[Any], separator: Any) -> None:
    sizes = 0
    for item in items:
        sizes += _printed_size(item)
        _check_size(sizes)
    _check_size(sizes + len(str(separator)) * max(len(items) - 1, 0))


def _check_replace(text: Any, old: Any, new: Any, count: Any = None) -> None:
    text, old, new = str(text), str(old), str(new)
    hits = len(text) + 1 if not old else text.count(old)
    if isinstance(count, int) and count >= 0:
        hits = min(hits, count)
    _check_size(len(text) + hits * (len(new) - len(old)))


def _check_indent(text: Any, width: Any) -> None:
    pad = len(width) if isinstance(width, str) else width
    _check_width(pad)
    if isinstance(pad, int):
        text = str(text)
        _check_size(len(text) + (text.count("\n") + 1) * pad)


def _check_wordwrap(text: Any, width: Any, wrapstring: Any) -> None:
    if isinstance(width, int):
        text = str(text)
        # Greedy wrapping: two neighbouring lines together are longer than `width`.
        lines = min(len(text), 2 * len(text) // max(width, 1) + text.count("\n")) + 1
        _check_size(len(text) + lines * len("\n" if wrapstring is None else str(wrapstring)))


def _check_urlize(text: Any, target: Any, rel: Any) -> None:
    text = str(text)
    links = sum(1 for word in text.split() if "." in word or "@" in word or ":" in word)
    per_link = 40 + len(str(target or "")) + len(str(rel or ""))  # '<a href="..." rel="...">' and the url
    _check_size(2 * len(text) + links * per_link)


def _check_tojson(indent: Any) -> None:
    if indent is not None and (len(indent) if isinstance(indent, str) else indent) > MAX_JSON_INDENT:
        raise RenderBudgetExceeded(f"tojson may indent by at most {MAX_JSON_INDENT}")


_Arguments = Mapping[str, Any]
_PASSED_NAMES = frozenset({"context", "eval_ctx", "environment", "env"})

# The built-in filters that can build a value much larger than their input, each with the
# check that runs on its arguments (by the filter's own parameter names) before it does.
_FILTER_CHECKS: dict[str, Callable[[_Arguments], None]] = {
    "batch": lambda a: _check_width(a["linecount"]),
    "center": lambda a: _check_width(a["width"]),
    "format": lambda a: _check_printf(str(a["value"]), a["kwargs"] or a["args"]),
    "indent": lambda a: _check_indent(a["s"], a["width"]),
    "join": lambda a: _check_joined(a["value"], a["d"]),
    "replace": lambda a: _check_replace(a["s"], a["old"], a["new"], a["count"]),
    "slice": lambda a: _check_width(a["slices"]),
    "tojson": lambda a: _check_tojson(a["indent"]),
    "urlize": lambda a: _check_urlize(a["value"], a["target"], a["rel"]),
    "wordwrap": lambda a: _check_wordwrap(a["s"], a["width"], a["wrapstring"]),
}


def _value_signature(func: Callable[..., Any]) -> inspect.Signature:
    """A filter's parameters from the filtered value on, without what Jinja passes before it."""
    signature = inspect.signature(func)  # an async-capable filter shows its sync variant's
    parameters = list(signature.parameters.values())
    if parameters and parameters[0].name in _PASSED_NAMES:
        parameters = parameters[1:]
    return signature.replace(parameters=parameters)


def _bounded_filter(
    func: Callable[..., Any], check: Callable[[_Arguments], None] | None
) -> Callable[..., Any]:
    """Wrap a filter so its arguments are checked before it runs and its result after."""
    skip = 1 if hasattr(func, "jinja_pass_arg") else 0  # the context or environment Jinja passes
    signature = _value_signature(func) if check is not None else None

    @functools.wraps(func)  # keeps jinja_pass_arg
    def bounded(*args: Any, **kwargs: Any) -> Any:
        if check is not None and signature is not None:
            if isinstance(args[skip], Iterator):  # measure a lazy sequence, then hand on its items
                args = (*args[:skip], list(args[skip]), *args[skip + 1 :])
            arguments = signature.bind(*args[skip:], **kwargs)
            arguments.apply_defaults()
            check(arguments.arguments)
        return _checked(func(*args, **kwargs))

    return bounded


def _check_str_method(method: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """Refuse a call to a ``str`` method that would build a huge string; return the arguments."""
    text = getattr(method, "__self__", None)
    if not isinstance(text, str):
        return args
    name = getattr(method, "__name__", "")
    if name in {"ljust", "rjust", "center", "zfill"}:
        for value in (*args, *kwargs.values()):
            _check_width(value)
    elif name == "expandtabs":
        tabsize = (*args, *kwargs.values(), 8)[0]
        _check_width(tabsize)
        if isinstance(tabsize, int):
            _check_size(len(text) + text.count("\t") * tabsize)
    elif name == "replace" and len(args) >= 2:
        _check_replace(text, *args, *kwargs.values())
    elif name == "join" and len(args) == 1:
        args = (list(args[0]),)  # measure a lazy sequence, then hand on the items
        _check_joined(args[0], text)
    elif name == "translate" and args and isinstance(args[0], Mapping):
        longest = max((_printed_size(v) for v in args[0].values()), default=1)
        _check_size(len(text) * longest)
    return args


@jinja2.pass_eval_context
def _bounded_concat(eval_ctx: EvalContext, parts: tuple[Any, ...]) -> str:
    """``a ~ b``, checked before the pieces are joined."""
    _check_joined(parts, "")
    return markup_join(parts) if eval_ctx.autoescape else str_join(parts)


class _BoundValues(NodeTransformer):
    """Route loops, ``~`` and list, tuple and dict literals through the limits above."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        node.iter = nodes.Filter(node.iter, "_bounded", [], [], None, None, lineno=node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        parts = nodes.Tuple(node.nodes, "load", lineno=node.lineno)
        return nodes.Filter(parts, "_concat", [], [], None, None, lineno=node.lineno)

    def _literal(self, node: nodes.Expr) -> nodes.Node:
        self.generic_visit(node)
        return nodes.Filter(node, "_checked", [], [], None, None, lineno=node.lineno)

    def visit_List(self, node: nodes.List) -> nodes.Node:
        return self._literal(node)

    def visit_Dict(self, node: nodes.Dict) -> nodes.Node:
        return self._literal(node)

    def visit_Tuple(self, node: nodes.Tuple) -> nodes.Node:
        if node.ctx != "load":  # an assignment target such as {% for k, v in ... %}
            return self.generic_visit(node)
        return self._literal(node)


class _BoundedFormatter(SandboxedFormatter):
    """``str.format`` for templates: bounded widths and precisions, and a bounded result."""

    def __init__(self, env: jinja2.Environment, **kwargs: Any) -> None:
        super().__init__(env, **kwargs)
        self._made = 0

    def vformat(self, format_string: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> str:
        self._made = 0  # per call: a template may keep "...".format and call it again
        return super().vformat(format_string, args, kwargs)

    def format_field(self, value: Any, format_spec: str) -> Any:
        _check_format_spec(format_spec)
        text = super().format_field(value, format_spec)
        self._made += len(text)
        _check_size(self._made)  # '{0}{0}{0}...' repeats one value
        return text


class _BoundedEscapeFormatter(_BoundedFormatter, EscapeFormatter):
    pass


class MessageSandbox(ImmutableSandboxedEnvironment):
    """The sandbox every template renders in."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, func in list(self.filters.items()):
            self.filters[name] = _bounded_filter(func, _FILTER_CHECKS.get(name))
        self.filters.update({"_bounded": _bounded, "_concat": _bounded_concat, "_checked": _checked})

    @staticmethod
    def concat(parts: Iterable[str]) -> str:
        """Join the output of a ``{% set %}`` block, a macro or a block, checked first."""
        pieces = list(parts)
        _check_joined(pieces, "")
        return "".join(pieces)

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        _BoundValues().visit(tree)
        return tree

    def call(self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        budget = _current_budget()
        budget.calls += 1
        if budget.calls > MAX_CALLS:
            raise RenderBudgetExceeded(f"a template may make at most {MAX_CALLS} calls")
        budget.check()
        args = _check_str_method(__obj, args, kwargs)
        return _checked(super().call(__context, __obj, *args, **kwargs))

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int) and abs(right) > 64:
            raise RenderBudgetExceeded("exponent too large")
        if operator in ("*", "**") and isinstance(left, int) and isinstance(right, int):
            bits = (
                left.bit_length() * abs(right) if operator == "**" else left.bit_length() + right.bit_length()
            )
            if bits > MAX_INT_BITS:  # repeated squaring would otherwise grow without bound
                raise RenderBudgetExceeded(f"a number may have at most {MAX_INT_BITS} bits")
        if operator == "*":
            for seq, count in ((left, right), (right, left)):
                sized = isinstance(seq, str | list | tuple) and isinstance(count, int)
                if sized and len(seq) * count > MAX_BINOP_LENGTH:
                    raise RenderBudgetExceeded("repetition builds too large a value")
        if operator == "%" and isinstance(left, str):
            _check_printf(left, right)
        return _checked(super().call_binop(context, operator, left, right))

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """Sandbox ``str.format`` and ``str.format_map`` as Jinja does, with bounded widths."""
        is_method = isinstance(value, types.MethodType | types.BuiltinMethodType)
        if not is_method or value.__name__ not in ("format", "format_map"):
            return None
        text = getattr(value, "__self__", None)
        if not isinstance(text, str):
            return None
        formatter = (
            _BoundedEscapeFormatter(self, escape=text.escape)
            if isinstance(text, Markup)
            else _BoundedFormatter(self)
        )
        is_format_map = value.__name__ == "format_map"

        def bounded_format(*args: Any, **kwargs: Any) -> str:
            if is_format_map:
                if kwargs or len(args) != 1:
                    raise TypeError("format_map() takes exactly one argument")
                return type(text)(formatter.vformat(text, (), args[0]))
            return type(text)(formatter.vformat(text, args, kwargs))

        return functools.update_wrapper(bounded_format, value)
