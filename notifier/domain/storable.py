"""Text and numbers the database can store: no NUL, no lone surrogate, no NaN or infinity.

PostgreSQL's ``text`` and ``jsonb`` refuse the NUL character; a lone surrogate (``"\\ud800"``
is valid JSON) cannot be encoded as UTF-8; ``jsonb`` has no NaN or infinity. Each of these,
let in, fails later: as a server error, or in a worker that retries forever.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from notifier.errors import FieldError

NUL = "\x00"


def unstorable(text: str) -> str | None:
    """Say why ``text`` cannot be stored (a NUL, a lone surrogate), or None if it can."""
    if NUL in text:
        return "must not contain the NUL character (\\u0000)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "must not contain a lone surrogate (\\ud800-\\udfff); send valid Unicode"
    return None


def shown(text: str) -> str:
    """``text`` with what cannot be stored replaced, to name it in an answer or a report."""
    return text.replace(NUL, "\ufffd").encode("utf-8", "replace").decode("utf-8")


def pointer_part(part: str) -> str:
    """One part of a JSON pointer (RFC 6901), shown storably."""
    return shown(part).replace("~", "~0").replace("/", "~1")


def json_problems(value: Any, pointer: str = "") -> Iterator[FieldError]:
    """Yield every string, key or number of parsed JSON that cannot be stored, by JSON pointer."""
    # Every request body passes through here: the path to an item is kept as a tuple and
    # spelled as a pointer only for an item that is refused.
    pending: list[tuple[Any, tuple[str | int, ...]]] = [(value, ())]
    while pending:
        item, path = pending.pop()
        if isinstance(item, str):
            reason = unstorable(item)
            if reason:
                yield FieldError(_pointer(pointer, path), reason)
        elif isinstance(item, float) and not math.isfinite(item):
            yield FieldError(
                _pointer(pointer, path), "must be a finite number (not NaN, Infinity or beyond 1.8e308)"
            )
        elif isinstance(item, dict):
            for key, child in item.items():
                reason = unstorable(str(key))
                if reason:
                    yield FieldError(_pointer(pointer, (*path, str(key))), f"the key {reason}")
                pending.append((child, (*path, str(key))))
        elif isinstance(item, list | tuple):
            pending.extend((child, (*path, n)) for n, child in enumerate(item))


def _pointer(start: str, path: tuple[str | int, ...]) -> str:
    return start + "".join(f"/{part}" if isinstance(part, int) else f"/{pointer_part(part)}" for part in path)
