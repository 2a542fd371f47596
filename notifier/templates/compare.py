"""The difference between two versions of a template, part by part (``difflib``), and the line a
save-time refusal points at."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from notifier.domain.templates import TemplateVersion

_LINE = re.compile(r"\bline (\d+)\b")


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "add", "del", "hunk" or "same"
    text: str


@dataclass(frozen=True)
class PartDiff:
    locale: str
    part: str
    lines: list[DiffLine]


def _kind(line: str) -> str:
    if line.startswith("@@"):
        return "hunk"
    if line.startswith("+"):
        return "add"
    if line.startswith("-"):
        return "del"
    return "same"


def diff_versions(old: TemplateVersion, new: TemplateVersion) -> list[PartDiff]:
    """A unified diff of every part that differs between ``old`` and ``new``."""
    parts = sorted(
        {(lo, p) for lo, ps in old.sources.items() for p in ps}
        | {(lo, p) for lo, ps in new.sources.items() for p in ps}
    )
    found = []
    for locale, part in parts:
        before = old.sources.get(locale, {}).get(part, "").splitlines()
        after = new.sources.get(locale, {}).get(part, "").splitlines()
        lines = [
            DiffLine(_kind(line), line)
            for line in difflib.unified_diff(
                before, after, f"v{old.version}", f"v{new.version}", lineterm="", n=2
            )
        ][2:]  # the two file-name lines say nothing the page does not
        if lines:
            found.append(PartDiff(locale, part, lines))
    return found


def line_of(detail: str) -> int | None:
    """The line number a refusal's detail names ('line 3: ...'), if any."""
    found = _LINE.search(detail)
    return int(found.group(1)) if found else None
