"""Size an SMS the way Korean carriers and Twilio will: cp949 bytes, class, encoding, segments.

Korean carriers bill by bytes of code page 949 (ASCII 1 byte, Hangul 2 bytes): up to
``SMS_MAX_BYTES`` is an SMS, up to ``LMS_MAX_BYTES`` an LMS, anything longer is refused.
Twilio bills by segments of GSM-7 or UCS-2. Characters cp949 cannot encode reach the
handset as ``?``, so they are found and reported (or replaced via ``CP949_REPLACEMENTS``).

We use the ``cp949`` codec, never ``euc_kr``: ``euc_kr`` encodes syllables outside
KS X 1001's 2,350 (e.g. 똠) as 8-byte jamo sequences, which carriers do not do.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

SMS_MAX_BYTES = 90
LMS_MAX_BYTES = 2000
LMS_SUBJECT_MAX_BYTES = 40
TWILIO_MAX_CHARS = 1600

GSM7_SINGLE_SEGMENT_SEPTETS = 160
# A concatenated segment loses 7 septets to the user data header.
GSM7_MULTI_SEGMENT_SEPTETS = 153
UCS2_SINGLE_SEGMENT_UNITS = 70
UCS2_MULTI_SEGMENT_UNITS = 67

_CODEC = "cp949"


class KrClass(StrEnum):
    SMS = "SMS"
    LMS = "LMS"


class Encoding(StrEnum):
    GSM7 = "GSM-7"
    UCS2 = "UCS-2"


# GSM 03.38 basic character set (one septet each). The escape code 0x1B is not a character.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# GSM 03.38 extension table: each is sent as escape + character, so two septets.
GSM7_EXTENDED = frozenset("€[]{}~^\\|\f")

_DASH = "-"
_MIDDLE_DOT = "\u00b7"  # encodable in cp949 (A1A4), the usual Korean list marker
_SPACE = " "
_REMOVED = ""

# Only characters that cp949 really cannot encode belong here (the tests check both sides).
# '…', '·', curly quotes, '×', '€', '™' and the ideographic space are encodable, so absent.
CP949_REPLACEMENTS: Mapping[str, str] = MappingProxyType(
    {
        # dashes and minus signs
        "\u2010": _DASH,  # hyphen
        "\u2011": _DASH,  # non-breaking hyphen
        "\u2012": _DASH,  # figure dash
        "\u2013": _DASH,  # en dash
        "\u2014": _DASH,  # em dash
        "\u2212": _DASH,  # minus sign
        # bullets and middle dots from other scripts
        "\u2022": _MIDDLE_DOT,  # bullet
        "\u2027": _MIDDLE_DOT,  # hyphenation point
        "\u2043": _MIDDLE_DOT,  # hyphen bullet
        "\u2219": _MIDDLE_DOT,  # bullet operator
        "\u22c5": _MIDDLE_DOT,  # dot operator
        "\u30fb": _MIDDLE_DOT,  # katakana middle dot (Japanese IMEs)
        "\uff65": _MIDDLE_DOT,  # halfwidth katakana middle dot
        # currency: the fullwidth forms are in KS X 1001 and keep the meaning and position
        "\u20a9": "\uffe6",  # won sign -> fullwidth won sign
        "\u00a2": "\uffe0",  # cent sign
        "\u00a3": "\uffe1",  # pound sign
        "\u00a5": "\uffe5",  # yen sign
        # odd spaces, usually pasted from word processors or web pages
        "\u00a0": _SPACE,  # no-break space
        "\u2002": _SPACE,  # en space
        "\u2003": _SPACE,  # em space
        "\u2004": _SPACE,  # three-per-em space
        "\u2005": _SPACE,  # four-per-em space
        "\u2006": _SPACE,  # six-per-em space
        "\u2007": _SPACE,  # figure space
        "\u2008": _SPACE,  # punctuation space
        "\u2009": _SPACE,  # thin space
        "\u200a": _SPACE,  # hair space
        "\u202f": _SPACE,  # narrow no-break space
        "\u205f": _SPACE,  # medium mathematical space
        # invisible characters would each show as a stray '?'
        "\u200b": _REMOVED,  # zero width space
        "\u200c": _REMOVED,  # zero width non-joiner
        "\u200d": _REMOVED,  # zero width joiner
        "\u200e": _REMOVED,  # left-to-right mark
        "\u200f": _REMOVED,  # right-to-left mark
        "\u2060": _REMOVED,  # word joiner
        "\ufeff": _REMOVED,  # byte order mark / zero width no-break space
        # line breaks from other systems
        "\u0085": "\n",  # next line
        "\u2028": "\n",  # line separator
        "\u2029": "\n",  # paragraph separator
        # symbols with an encodable look-alike
        "\u301c": "~",  # wave dash (Japanese IMEs)
        "\u00a9": "\u24d2",  # copyright sign -> circled small c
        "\u2713": "\u221a",  # check mark -> square root, the customary Korean check
        "\u2714": "\u221a",  # heavy check mark
        "\u2715": "\u00d7",  # multiplication x
        "\u2716": "\u00d7",  # heavy multiplication x
        "\u2717": "\u00d7",  # ballot x
        "\u2718": "\u00d7",  # heavy ballot x
    }
)
_REPLACEMENT_TABLE = str.maketrans(dict(CP949_REPLACEMENTS))
# str.translate looks every character up in the table; most texts hold none of them, and a
# search for any of them runs in C (a campaign renders one text per message).
_REPLACEABLE = re.compile("[" + "".join(re.escape(char) for char in CP949_REPLACEMENTS) + "]")


@dataclass(frozen=True)
class Unencodable:
    """A character cp949 cannot encode; ``position`` is 0-based, ``line``/``column`` 1-based."""

    char: str
    position: int
    line: int
    column: int

    def as_dict(self) -> dict[str, str | int]:
        return {
            "char": self.char,
            "position": self.position,
            "line": self.line,
            "column": self.column,
        }


@dataclass(frozen=True)
class SmsSize:
    """Everything an admin needs to see before sending one SMS body."""

    characters: int
    cp949_bytes: int
    kr_class: KrClass | None
    encoding: Encoding
    segments: int
    unencodable: tuple[Unencodable, ...]

    @property
    def too_long(self) -> bool:
        return self.kr_class is None or self.characters > TWILIO_MAX_CHARS

    def as_dict(self) -> dict[str, object]:
        return {
            "characters": self.characters,
            "cp949_bytes": self.cp949_bytes,
            "kr_class": None if self.kr_class is None else self.kr_class.value,
            "encoding": self.encoding.value,
            "segments": self.segments,
            "too_long": self.too_long,
            "unencodable": [u.as_dict() for u in self.unencodable],
        }


def apply_replacements(text: str) -> str:
    """Replace the characters in ``CP949_REPLACEMENTS`` with their cp949-safe stand-ins."""
    if _REPLACEABLE.search(text) is None:
        return text
    return text.translate(_REPLACEMENT_TABLE)


def _is_encodable(char: str) -> bool:
    try:
        char.encode(_CODEC)
    except UnicodeEncodeError:
        return False
    return True


def find_unencodable(text: str) -> list[Unencodable]:
    """List every character of ``text`` that cp949 cannot encode, with where it is."""
    if _is_encodable(text):
        return []
    found: list[Unencodable] = []
    line, column = 1, 0
    for position, char in enumerate(text):
        column += 1
        if not _is_encodable(char):
            found.append(Unencodable(char, position, line, column))
        if char == "\n":
            line, column = line + 1, 0
    return found


def cp949_bytes(text: str) -> int:
    """Count the cp949 bytes of ``text``; an unencodable character counts 1 (it becomes '?')."""
    return len(text.encode(_CODEC, errors="replace"))


def kr_class(nbytes: int) -> KrClass | None:
    """Classify a body of ``nbytes`` cp949 bytes; None means too long to send at all."""
    if nbytes < 0:
        raise ValueError(f"byte count cannot be negative: {nbytes}")
    if nbytes <= SMS_MAX_BYTES:
        return KrClass.SMS
    if nbytes <= LMS_MAX_BYTES:
        return KrClass.LMS
    return None


def _pack(sizes: list[int], single: int, multi: int) -> int:
    """Count segments, never splitting one character's units across two segments."""
    if not sizes:
        return 0
    if sum(sizes) <= single:
        return 1
    segments, free = 1, multi
    for size in sizes:
        if size > free:
            segments, free = segments + 1, multi
        free -= size
    return segments


def _pack_uniform(count: int, single: int, multi: int) -> int:
    """``_pack`` for ``count`` units of size one."""
    if count <= single:
        return 1 if count else 0
    return -(-count // multi)


def twilio_segments(text: str) -> tuple[Encoding, int]:
    """Return the encoding Twilio will use for ``text`` and how many segments it bills.

    Empty text is ``(GSM7, 0)``: Twilio refuses an empty body, so nothing is sent or billed.
    """
    if all(c in GSM7_BASIC or c in GSM7_EXTENDED for c in text):
        septets = [2 if c in GSM7_EXTENDED else 1 for c in text]
        return Encoding.GSM7, _pack(septets, GSM7_SINGLE_SEGMENT_SEPTETS, GSM7_MULTI_SEGMENT_SEPTETS)
    # UCS-2 on the wire is really UTF-16: a character outside the BMP takes two units.
    if max(text) <= "\uffff":  # the usual case: one unit each, so no list to build
        return Encoding.UCS2, _pack_uniform(len(text), UCS2_SINGLE_SEGMENT_UNITS, UCS2_MULTI_SEGMENT_UNITS)
    units = [2 if ord(c) > 0xFFFF else 1 for c in text]
    return Encoding.UCS2, _pack(units, UCS2_SINGLE_SEGMENT_UNITS, UCS2_MULTI_SEGMENT_UNITS)


def measure_sms(text: str) -> SmsSize:
    """Measure ``text`` as an SMS body for both the Korean carriers and Twilio."""
    nbytes = cp949_bytes(text)
    encoding, segments = twilio_segments(text)
    return SmsSize(
        characters=len(text),
        cp949_bytes=nbytes,
        kr_class=kr_class(nbytes),
        encoding=encoding,
        segments=segments,
        unencodable=tuple(find_unencodable(text)),
    )
