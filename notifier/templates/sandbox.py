"""Sandboxed Jinja2 rendering: a template version plus data becomes a RenderedMessage.

Threat model: template sources are edited through the API, so a template is untrusted code.
Jinja's ``ImmutableSandboxedEnvironment`` already stops access to Python internals
(``__class__``, ``__globals__``, ...) and mutation of values. It does not bound work or memory,
so this module adds the limits below, each a named constant in ``templates.limits`` (with the
predicates that enforce it) and a test that tries to break it:

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
- the only globals are ``range``, ``dict`` and ``loop`` helpers Jinja itself needs; besides
  Jinja's own filters there are the display filters of ``templates.display_filters`` (``when``,
  ``date``, ``time``, ``duration``), which read bounded input and make short strings.

Values are escaped in HTML parts and never in SMS or plain text.
"""

from __future__ import annotations

import functools
import inspect
import types
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.nodes import EvalContext
from jinja2.runtime import markup_join, str_join
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedFormatter
from jinja2.visitor import NodeTransformer
from markupsafe import EscapeFormatter, Markup

from notifier.templates.display_filters import DISPLAY_FILTERS
from notifier.templates.limits import (
    FILTER_CHECKS,
    MAX_BINOP_LENGTH,
    MAX_CALLS,
    MAX_INT_BITS,
    Arguments,
    RenderBudgetExceeded,
    bounded_loop,
    check_format_spec,
    check_joined,
    check_printf,
    check_size,
    check_str_method,
    checked,
    current_budget,
)

ALWAYS_PRESENT = frozenset({"center", "recipient"})


_PASSED_NAMES = frozenset({"context", "eval_ctx", "environment", "env"})


def _value_signature(func: Callable[..., Any]) -> inspect.Signature:
    """A filter's parameters from the filtered value on, without what Jinja passes before it."""
    signature = inspect.signature(func)  # an async-capable filter shows its sync variant's
    parameters = list(signature.parameters.values())
    if parameters and parameters[0].name in _PASSED_NAMES:
        parameters = parameters[1:]
    return signature.replace(parameters=parameters)


def _bounded_filter(
    func: Callable[..., Any], check: Callable[[Arguments], None] | None
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
        return checked(func(*args, **kwargs))

    return bounded


@jinja2.pass_eval_context
def _bounded_concat(eval_ctx: EvalContext, parts: tuple[Any, ...]) -> str:
    """``a ~ b``, checked before the pieces are joined."""
    check_joined(parts, "")
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
        check_format_spec(format_spec)
        text = super().format_field(value, format_spec)
        self._made += len(text)
        check_size(self._made)  # '{0}{0}{0}...' repeats one value
        return text


class _BoundedEscapeFormatter(_BoundedFormatter, EscapeFormatter):
    pass


class MessageSandbox(ImmutableSandboxedEnvironment):
    """The sandbox every template renders in."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.filters.update(DISPLAY_FILTERS)
        for name, func in list(self.filters.items()):
            self.filters[name] = _bounded_filter(func, FILTER_CHECKS.get(name))
        self.filters.update({"_bounded": bounded_loop, "_concat": _bounded_concat, "_checked": checked})

    @staticmethod
    def concat(parts: Iterable[str]) -> str:
        """Join the output of a ``{% set %}`` block, a macro or a block, checked first."""
        pieces = list(parts)
        check_joined(pieces, "")
        return "".join(pieces)

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        _BoundValues().visit(tree)
        return tree

    def call(self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        budget = current_budget()
        budget.calls += 1
        if budget.calls > MAX_CALLS:
            raise RenderBudgetExceeded(f"a template may make at most {MAX_CALLS} calls")
        budget.check()
        args = check_str_method(__obj, args, kwargs)
        return checked(super().call(__context, __obj, *args, **kwargs))

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
            check_printf(left, right)
        return checked(super().call_binop(context, operator, left, right))

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
