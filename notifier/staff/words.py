"""A text for people in both of the console's languages.

The staff package says why it refused something without knowing who reads it: the CLI prints
the Korean (``.ko``), the console picks the text of its page's language.
"""

from __future__ import annotations

from typing import NamedTuple


class Words(NamedTuple):
    """One text, in Korean and in English."""

    ko: str
    en: str

    def filled(self, **values: object) -> Words:
        """Both texts with their ``{placeholders}`` filled in."""
        return Words(self.ko.format(**values), self.en.format(**values))
