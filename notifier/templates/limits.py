"""The limits of one render, each a named constant, and the predicates that enforce them.

``templates.sandbox`` says what each limit stops and wires these checks into Jinja. Every size
predicate refuses before the big value exists: it estimates what an operation would build
from its arguments, and raises ``RenderBudgetExceeded`` past the limit.
"""

from __future__ import annotations

import contextvars
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MAX_LOOP_ITERATIONS = 10_000
MAX_RANGE = 1_000
MAX_OUTPUT_CHARS = 200_000
MAX_CALLS = 20_000
MAX_BINOP_LENGTH = 10_000  # also the largest width, precision or count a template may ask for
MAX_VALUE_CHARS = MAX_OUTPUT_CHARS  # a longer value could never be sent anyway
MAX_JSON_INDENT = 8
MAX_INT_BITS = 4096  # far beyond any number a message shows
RENDER_DEADLINE_SECONDS = 2.0


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


def current_budget() -> Budget:
    budget = render_budget.get()
    if budget is None:  # rendering outside render_part(): still bounded
        budget = Budget(deadline=time.monotonic() + RENDER_DEADLINE_SECONDS)
        render_budget.set(budget)
    return budget


def bounded_loop(iterable: Iterable[Any]) -> Iterator[Any]:
    budget = current_budget()
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


def check_size(size: int) -> None:
    if size > MAX_VALUE_CHARS:
        raise RenderBudgetExceeded(f"a value may be at most {MAX_VALUE_CHARS:,} characters long")


def checked(value: Any) -> Any:
    """Return ``value`` if it prints as at most MAX_VALUE_CHARS characters."""
    check_size(_printed_size(value))
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


def check_printf(template: str, values: Any) -> None:
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
    check_size(len(template) + used * _printed_size(values))


def check_format_spec(spec: str) -> None:
    """Refuse a ``str.format`` spec (``>99999999``, ``.99999999f``) with a huge width or precision."""
    for digits in _SPEC_NUMBER.findall(spec):
        _check_digits(digits)


def check_joined(items: Sequence[Any], separator: Any) -> None:
    sizes = 0
    for item in items:
        sizes += _printed_size(item)
        check_size(sizes)
    check_size(sizes + len(str(separator)) * max(len(items) - 1, 0))


def _check_replace(text: Any, old: Any, new: Any, count: Any = None) -> None:
    text, old, new = str(text), str(old), str(new)
    hits = len(text) + 1 if not old else text.count(old)
    if isinstance(count, int) and count >= 0:
        hits = min(hits, count)
    check_size(len(text) + hits * (len(new) - len(old)))


def _check_indent(text: Any, width: Any) -> None:
    pad = len(width) if isinstance(width, str) else width
    _check_width(pad)
    if isinstance(pad, int):
        text = str(text)
        check_size(len(text) + (text.count("\n") + 1) * pad)


def _check_wordwrap(text: Any, width: Any, wrapstring: Any) -> None:
    if isinstance(width, int):
        text = str(text)
        # Greedy wrapping: two neighbouring lines together are longer than `width`.
        lines = min(len(text), 2 * len(text) // max(width, 1) + text.count("\n")) + 1
        check_size(len(text) + lines * len("\n" if wrapstring is None else str(wrapstring)))


def _check_urlize(text: Any, target: Any, rel: Any) -> None:
    text = str(text)
    links = sum(1 for word in text.split() if "." in word or "@" in word or ":" in word)
    per_link = 40 + len(str(target or "")) + len(str(rel or ""))  # '<a href="..." rel="...">' and the url
    check_size(2 * len(text) + links * per_link)


def _check_tojson(indent: Any) -> None:
    if indent is not None and (len(indent) if isinstance(indent, str) else indent) > MAX_JSON_INDENT:
        raise RenderBudgetExceeded(f"tojson may indent by at most {MAX_JSON_INDENT}")


Arguments = Mapping[str, Any]


# The built-in filters that can build a value much larger than their input, each with the
# check that runs on its arguments (by the filter's own parameter names) before it does.
FILTER_CHECKS: dict[str, Callable[[Arguments], None]] = {
    "batch": lambda a: _check_width(a["linecount"]),
    "center": lambda a: _check_width(a["width"]),
    "format": lambda a: check_printf(str(a["value"]), a["kwargs"] or a["args"]),
    "indent": lambda a: _check_indent(a["s"], a["width"]),
    "join": lambda a: check_joined(a["value"], a["d"]),
    "replace": lambda a: _check_replace(a["s"], a["old"], a["new"], a["count"]),
    "slice": lambda a: _check_width(a["slices"]),
    "tojson": lambda a: _check_tojson(a["indent"]),
    "urlize": lambda a: _check_urlize(a["value"], a["target"], a["rel"]),
    "wordwrap": lambda a: _check_wordwrap(a["s"], a["width"], a["wrapstring"]),
}


def check_str_method(method: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
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
            check_size(len(text) + text.count("\t") * tabsize)
    elif name == "replace" and len(args) >= 2:
        _check_replace(text, *args, *kwargs.values())
    elif name == "join" and len(args) == 1:
        args = (list(args[0]),)  # measure a lazy sequence, then hand on the items
        check_joined(args[0], text)
    elif name == "translate" and args and isinstance(args[0], Mapping):
        longest = max((_printed_size(v) for v in args[0].values()), default=1)
        check_size(len(text) * longest)
    return args
