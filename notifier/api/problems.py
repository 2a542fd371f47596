"""Every error the API answers, as RFC 9457 problem details, mapped in one place."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response, current_app, json, request
from pydantic import BaseModel, Field, ValidationError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from notifier.api.limits import body_within_limit, refuse_unstorable
from notifier.errors import (
    FieldError,
    MalformedRequest,
    NotifierError,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
)
from notifier.responses import ResponseModel

log = logging.getLogger("notifier.api")
PROBLEM_JSON = "application/problem+json"
M = TypeVar("M", bound=BaseModel)
MAX_JSON_DEPTH = 64
TOO_DEEP = f"the body nests arrays or objects more than {MAX_JSON_DEPTH} deep"


class ProblemField(ResponseModel):
    """One bad field of a request, named by JSON pointer."""

    pointer: str
    detail: str


class Problem(ResponseModel):
    """RFC 9457 problem details: every error the API answers."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    errors: list[ProblemField] = Field(
        default_factory=list, description="422: each bad field of the request, named by JSON pointer"
    )
    checks: dict[str, str] = Field(
        default_factory=dict, description="503 from /readyz: each dependency and its state"
    )


def problem(
    status: int,
    title: str,
    detail: str,
    errors: list[FieldError] | None = None,
    checks: dict[str, str] | None = None,
    headers: list[tuple[str, str]] | None = None,
) -> Response:
    fields: dict[str, Any] = {
        "type": f"https://notifier.dev/problems/{title.lower().replace(' ', '-')}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.path,
    }
    if errors is not None:
        fields["errors"] = [ProblemField(pointer=e.pointer, detail=e.detail) for e in errors]
    if checks is not None:
        fields["checks"] = checks
    body = Problem(**fields).dump()
    # "replace": a path or key with a lone surrogate is named, not a reason for a 500
    text = json.dumps(body, ensure_ascii=False).encode("utf-8", "replace")
    response = Response(text, status=status, mimetype=PROBLEM_JSON)
    for name, value in headers or ():
        response.headers[name] = value
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="notifier"'
    return response


def pointer(loc: tuple[int | str, ...]) -> str:
    # pydantic names a bad key of a mapping as a "[key]" step after the key itself: the key is the pointer
    return "".join(f"/{str(part).replace('~', '~0').replace('/', '~1')}" for part in loc if part != "[key]")


def validation_errors(exc: ValidationError) -> list[FieldError]:
    return [FieldError(pointer(tuple(e["loc"])), e["msg"]) for e in exc.errors(include_url=False)]


def nesting_exceeds(value: Any, limit: int) -> bool:
    """Whether parsed JSON nests arrays or objects more than ``limit`` levels deep."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is not None:
            if depth > limit:
                return True
            pending.extend((child, depth + 1) for child in children)
    return False


def parse_json(model: type[M]) -> tuple[M, Any]:
    """Read the JSON body into ``model``: 415, 400 or 422 when it cannot be."""
    raw = _json_body()
    if not isinstance(raw, dict):
        raise MalformedRequest("the body must be a JSON object")
    return _validated(model, raw), raw


def parse_json_array(model: type[M]) -> M:
    """Read a JSON array body (e.g. a provider's batch of reports) into a root ``model``."""
    raw = _json_body()
    if not isinstance(raw, list):
        raise MalformedRequest("the body must be a JSON array")
    return _validated(model, raw)


def _json_body() -> Any:
    if not request.is_json:
        raise UnsupportedMediaType("send a JSON body with Content-Type: application/json")
    try:
        raw = json.loads(body_within_limit(request.get_data(cache=True)))
    except RequestEntityTooLarge:
        raise
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedRequest(f"the body is not valid JSON: {exc}") from exc
    except RecursionError as exc:  # e.g. "[[[[..." a hundred thousand deep
        raise MalformedRequest(TOO_DEEP) from exc
    if nesting_exceeds(raw, MAX_JSON_DEPTH):  # deeper bodies would overflow later, in copy or render
        raise MalformedRequest(TOO_DEEP)
    return raw


def _validated(model: type[M], raw: Any) -> M:
    refuse_unstorable(raw)  # NUL, lone surrogates, NaN and infinities: before any model sees them
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise ValidationFailed(validation_errors(exc)) from exc


def http_problem(exc: HTTPException) -> Response:
    """The problem+json answer of an HTTP error raised by Flask or Werkzeug (404, 405, 413...)."""
    if isinstance(exc, RequestEntityTooLarge):
        return problem(413, PayloadTooLarge.title, "the request body is larger than this API accepts")
    status = exc.code or 500
    allow = [(name, value) for name, value in exc.get_headers() if name == "Allow"]  # 405
    return problem(status, exc.name, exc.description or exc.name, headers=allow)


# app.extensions[ROUTING_PAGES]: path prefix (e.g. "/console") -> what a 404 or 405 of the
# router under it answers, for the parts of the service that people read (``add_routing_page``).
ROUTING_PAGES = "notifier.routing_pages"


def add_routing_page(app: Flask, prefix: str, page: Callable[[HTTPException], Response]) -> None:
    """Let ``page`` answer the router's 404 and 405 under ``prefix`` instead of problem+json."""
    app.extensions.setdefault(ROUTING_PAGES, {})[prefix] = page


def routing_error(exc: HTTPException) -> Response:
    """A URL that matches no view (404) or not with this method (405): no blueprint's handler
    is asked, so the app's one handler chooses by path between a page and problem+json."""
    pages: dict[str, Callable[[HTTPException], Response]] = current_app.extensions.get(ROUTING_PAGES, {})
    for prefix, page in pages.items():
        if request.path == prefix or request.path.startswith(prefix + "/"):
            return page(exc)
    return http_problem(exc)


def register(app: Flask) -> None:
    for status in (404, 405):  # per status: these win over the handler of every HTTPException
        app.register_error_handler(status, routing_error)

    @app.errorhandler(NotifierError)
    def _notifier_error(exc: NotifierError) -> Response:
        errors = exc.errors if isinstance(exc, ValidationFailed) else None
        if exc.status >= 500:
            log.error("unexpected error", exc_info=exc)
        return problem(exc.status, exc.title, exc.detail, errors)

    app.register_error_handler(HTTPException, http_problem)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error")
        return problem(500, "Internal error", "something went wrong on our side; it has been logged")
