"""What the API refuses before any view runs, and the text no stored value may hold.

Threat: a client (careless or hostile) sends text PostgreSQL cannot store or a worker cannot
send (``notifier.domain.storable``: NUL, lone surrogates, and the ``NaN``, ``Infinity`` and
``1e999999`` Python's JSON reader accepts), or a request larger than the service means to
read. Every string, key and number of a JSON body (``parse_json``), of the campaign upload's
form, of the path and of the query string is checked here, before any model or table sees it,
and refused with a 4xx problem+json naming it; nothing is stored.

Limits (each below gunicorn's own, ``notifier.cli.processes``, so the client gets problem+json
rather than gunicorn's bare HTML):

* ``MAX_PATH_BYTES``: the path and query string together; longer is 414.
* ``MAX_HEADER_BYTES``: all header names and values together; larger is 431.
* ``NOTIFIER_MAX_BODY_BYTES``: a body, with ``Content-Length`` or chunked; larger is 413.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, request

from notifier.domain.storable import json_problems, pointer_part, unstorable
from notifier.errors import (
    FieldError,
    HeadersTooLarge,
    NotFound,
    PayloadTooLarge,
    UriTooLong,
    ValidationFailed,
)

MAX_PATH_BYTES = 4096  # gunicorn: a request line of 8190
MAX_HEADER_BYTES = 32 * 1024  # gunicorn: 100 headers of 16380 bytes each


def refuse_unstorable(value: Any, pointer: str = "") -> None:
    """Raise 422 naming every value of parsed JSON that cannot be stored."""
    errors = sorted(json_problems(value, pointer), key=lambda e: e.pointer)
    if errors:
        raise ValidationFailed(errors)


def body_within_limit(data: bytes) -> bytes:
    """Refuse a chunked body that reached the limit: werkzeug stops reading there, silently."""
    limit = request.max_content_length
    if request.content_length is None and limit is not None and len(data) >= limit:
        raise PayloadTooLarge("the request body is larger than this API accepts")
    return data


def _check_request() -> None:
    environ = request.environ
    raw_path = environ.get("RAW_URI") or environ.get("REQUEST_URI") or request.full_path
    if len(raw_path.encode("utf-8", "surrogatepass")) > MAX_PATH_BYTES:
        raise UriTooLong(f"the path and query string are longer than {MAX_PATH_BYTES} bytes")
    header_bytes = sum(len(name) + len(value) for name, value in request.headers.items())
    if header_bytes > MAX_HEADER_BYTES:
        raise HeadersTooLarge(f"the request's headers are larger than {MAX_HEADER_BYTES} bytes in all")
    if unstorable(request.path):  # e.g. /v1/messages/%00: no resource has such a name
        raise NotFound("no resource has a name with a NUL character or a lone surrogate")
    errors = [
        FieldError(f"/{pointer_part(name)}", f"the query parameter {reason}")
        for name, value in request.args.items(multi=True)
        for reason in [unstorable(name) or unstorable(value)]
        if reason
    ]
    if errors:
        raise ValidationFailed(errors)


def register(app: Flask) -> None:
    """Check every request's size, path and query string before its view runs."""
    app.before_request(_check_request)
