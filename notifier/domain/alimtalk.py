"""KakaoTalk AlimTalk text rules (KOREA.md section 9): the text sent equals the text Kakao
approved, apart from its ``#{변수}`` values.

A template's ``alimtalk.txt`` is the approved text with one Jinja expression (``{{ ... }}``)
where the approved text has a ``#{변수}``; every other character must be the same, line by
line. At send time the rendered text is matched against the approved one to recover each
variable's value, which the gateway checks again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

VARIABLE = re.compile(r"#\{[^{}\s]{1,30}\}")
EXPRESSION = r"\{\{.+?\}\}"
# Kakao's limits on an AlimTalk template: its text and its buttons.
MAX_TEXT_CHARS = 1000
MAX_BUTTONS = 5
MAX_BUTTON_NAME_CHARS = 14
BUTTON_TYPES = frozenset({"WL"})  # web link: the one kind the service sends


@dataclass(frozen=True)
class LineMismatch:
    line: int  # 1-based
    registered: str
    template: str


def _line_pattern(registered_line: str, placeholder: str) -> re.Pattern[str]:
    literal = VARIABLE.split(registered_line)
    return re.compile(placeholder.join(re.escape(part) for part in literal))


def mismatches(registered: str, source: str) -> list[LineMismatch]:
    """Every line where ``source`` (Jinja) differs from the ``registered`` text beyond its variables."""
    wanted, given = registered.strip("\n").split("\n"), source.strip("\n").split("\n")
    found = []
    for number in range(1, max(len(wanted), len(given)) + 1):
        reg = wanted[number - 1] if number <= len(wanted) else ""
        src = given[number - 1] if number <= len(given) else ""
        missing = number > len(wanted) or number > len(given)
        control = "{%" in src or "{#" in src  # the approved text is fixed: no tags, no comments
        if missing or control or not _line_pattern(reg, EXPRESSION).fullmatch(src):
            found.append(LineMismatch(number, reg, src))
    return found


def variables_of(registered: str, rendered: str) -> dict[str, str] | None:
    """The value of each ``#{변수}`` that makes ``registered`` read ``rendered`` (None: it cannot)."""
    wanted, given = registered.strip("\n").split("\n"), rendered.strip("\n").split("\n")
    if len(wanted) != len(given):
        return None
    values: dict[str, str] = {}
    for reg, text in zip(wanted, given, strict=True):
        names = VARIABLE.findall(reg)
        matched = _line_pattern(reg, "(.*?)").fullmatch(text)
        if matched is None:
            return None
        for name, value in zip(names, matched.groups(), strict=True):
            if values.setdefault(name, value) != value:
                return None  # one variable, two values: not what Kakao would show
    return values
