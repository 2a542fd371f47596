"""Campaign recipient lists as streams of rows: a CSV upload, inline JSON, or stored recipients.

A CSV file is UTF-8 (with or without a BOM) or CP949 as Korean Excel saves it: the first
``SAMPLE_BYTES`` are tried strictly as UTF-8, and CP949 is used if they are not. The file is
decoded incrementally, so memory does not grow with it. The header row names the columns:
``phone``, ``email``, ``name``, ``locale``, and any template values (``appointment.when``
fills nested values). Row numbers are the spreadsheet's (the header is row 1).

Every physical line of the file is accounted for: a row that is not valid CSV (a quote never
closed swallows every line after it; text after a closing quote) or that holds a NUL character
is a rejected row, its reason naming the lines it spans, and the reading goes on. A file with
a header row and no rows is refused.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from sqlalchemy import Connection

from notifier.consent import repository as consent_repo
from notifier.domain.storable import shown, unstorable
from notifier.errors import FieldError, ValidationFailed

MAX_ROWS = 1_000_000
SAMPLE_BYTES = 64 * 1024
MAX_RAW_CHARS = 500
KNOWN_COLUMNS = ("phone", "email", "name", "locale")
STORED_BATCH = 1000


@dataclass(frozen=True)
class ListRow:
    """One row of the list as given, before any check; ``row_no`` is what the admin sees."""

    row_no: int
    phone: str | None
    email: str | None
    name: str
    locale: str
    data: dict[str, Any]
    raw: str
    refused: str = ""  # why the row cannot be used whatever its values, e.g. it is not CSV


def detect_encoding(sample: bytes) -> str:
    """UTF-8 (a BOM is dropped) if the sample decodes strictly as UTF-8, else CP949."""
    try:
        codecs.getincrementaldecoder("utf-8-sig")("strict").decode(sample, final=False)
    except UnicodeDecodeError:
        return "cp949"
    return "utf-8-sig"


class _Replayed(io.RawIOBase):
    """A byte stream that first gives back ``head`` (already read), then the rest of ``tail``."""

    def __init__(self, head: bytes, tail: IO[bytes]) -> None:
        self.head = memoryview(head)
        self.tail = tail

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        target = memoryview(buffer).cast("B")
        if self.head:
            size = min(len(target), len(self.head))
            target[:size] = self.head[:size]
            self.head = self.head[size:]
            return size
        chunk = self.tail.read(len(target))
        target[: len(chunk)] = chunk
        return len(chunk)


def _file_error(detail: str) -> ValidationFailed:
    return ValidationFailed([FieldError("/file", detail)])


def csv_rows(stream: IO[bytes]) -> Iterator[ListRow]:
    """Yield the rows of a CSV upload; a header row names the columns."""
    sample = stream.read(SAMPLE_BYTES)
    encoding = detect_encoding(sample)
    text = io.TextIOWrapper(io.BufferedReader(_Replayed(sample, stream)), encoding=encoding, newline="")
    reader = csv.reader(text, strict=True)  # strict: a quote never closed is an error, not a row
    row_no = 1
    try:
        header = next(reader, None)
        if not header:
            raise _file_error("the file is empty; the first row must name the columns (phone, email, name)")
        if any(unstorable(h) for h in header):
            raise _file_error("the header row contains a NUL character")
        names = [h.strip().lstrip("\ufeff") for h in header]
        lowered = [n.lower() if n.lower() in KNOWN_COLUMNS else n for n in names]
        if "phone" not in lowered and "email" not in lowered:
            raise _file_error("the header row needs a 'phone' or an 'email' column")
        duplicated = sorted({n for n in lowered if lowered.count(n) > 1})
        if duplicated or "" in lowered:
            raise _file_error(f"every column needs a distinct name in the header row: {duplicated or ['']}")
        rows = 0
        while True:
            first_line = reader.line_num + 1
            try:
                fields = next(reader, None)
            except csv.Error as exc:
                row_no += 1
                rows += 1
                yield _not_csv(row_no, first_line, reader.line_num, exc)
                continue
            if fields is None:
                break
            row_no += 1
            if not fields or all(not f.strip() for f in fields):
                continue
            rows += 1
            if row_no - 1 > MAX_ROWS:
                raise _file_error(f"the list has more than {MAX_ROWS:,} rows")
            yield _from_fields(row_no, lowered, fields, (first_line, reader.line_num))
        if rows == 0:
            raise _file_error("the file has a header row but no rows")
    except UnicodeDecodeError as exc:
        shown_name = "UTF-8" if encoding == "utf-8-sig" else "CP949"
        raise _file_error(
            f"row {row_no + 1}: the file is not valid {shown_name} ({exc.reason}); "
            "save it as UTF-8 or CP949 throughout"
        ) from exc


def _lines(first: int, last: int) -> str:
    return f"line {first}" if last <= first else f"lines {first}-{last}"


def _not_csv(row_no: int, first: int, last: int, error: csv.Error) -> ListRow:
    """A row the CSV reader could not read, spanning the physical lines ``first`` to ``last``."""
    reason = str(error)
    if "unexpected end of data" in reason:
        reason = f"a quote opened on line {first} is never closed, so every line after it was read into it"
    return ListRow(
        row_no=row_no,
        phone=None,
        email=None,
        name="",
        locale="ko",
        data={},
        raw="",
        refused=f"{_lines(first, last)}: not valid CSV: {reason}",
    )


def _from_fields(row_no: int, names: list[str], fields: list[str], lines: tuple[int, int]) -> ListRow:
    raw = shown(",".join(fields)[:MAX_RAW_CHARS])
    refused = ""
    if len(fields) > len(names):
        refused = f"the row has {len(fields)} fields but the header names {len(names)}"
    elif any(unstorable(field) for field in fields):
        refused = f"{_lines(*lines)}: contains a NUL character"
    if refused:
        values: dict[str, str] = {}
    else:
        values = {name: value.strip() for name, value in zip(names, fields, strict=False) if value.strip()}
    data: dict[str, Any] = {}
    for name, value in values.items():
        if name not in KNOWN_COLUMNS:
            _assign(data, name, value)
    return ListRow(
        row_no=row_no,
        phone=values.get("phone"),
        email=values.get("email"),
        name=values.get("name", ""),
        locale=values.get("locale", "ko"),
        data=data,
        raw=raw,
        refused=refused,
    )


def _assign(data: dict[str, Any], dotted: str, value: str) -> None:
    """Put a column such as 'appointment.when' into nested values."""
    *parents, last = dotted.split(".")
    target = data
    for part in parents:
        child = target.get(part)
        if not isinstance(child, dict):
            child = target[part] = {}
        target = child
    target[last] = value


def inline_rows(items: Iterable[dict[str, Any]]) -> Iterator[ListRow]:
    """Rows given inline as JSON; ``row_no`` is the index in ``recipients``."""
    for index, item in enumerate(items):
        yield ListRow(
            row_no=index,
            phone=item.get("phone"),
            email=item.get("email"),
            name=item.get("name") or "",
            locale=item.get("locale") or "ko",
            data=dict(item.get("data") or {}),
            raw=str({k: v for k, v in item.items() if k != "data"})[:MAX_RAW_CHARS],
        )


def stored_rows(conn: Connection, owner: str, center: str | None, tags: list[str]) -> Iterator[ListRow]:
    """The owner's stored recipients of ``center`` carrying every tag; ``row_no`` counts from 1."""
    wanted = set(tags)
    row_no = 0
    for row in consent_repo.live_recipients(conn, owner, center, STORED_BATCH):
        if not wanted <= set(row["tags"] or ()):
            continue
        row_no += 1
        yield ListRow(
            row_no=row_no,
            phone=row["phone"],
            email=row["email"],
            name=row["name"] or "",
            locale=row["locale"] or "ko",
            data={},
            raw=f"recipient {row['external_id']}",
        )
