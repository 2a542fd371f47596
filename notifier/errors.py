"""Every error the service raises on purpose, in one tree.

::

    NotifierError
    ├── ConfigError                 bad environment at start-up (names the variable)
    ├── InputError                  the client sent something we cannot accept
    │   ├── MalformedRequest        400: not JSON, not a JSON object
    │   ├── UnsupportedMediaType    415
    │   ├── PayloadTooLarge         413
    │   ├── UriTooLong              414: the path and query string (notifier.api.limits)
    │   ├── HeadersTooLarge         431: the headers together (notifier.api.limits)
    │   └── ValidationFailed        422: carries FieldError entries (JSON pointers)
    │       ├── InvalidPhoneNumber
    │       ├── MissingTemplateValues
    │       └── TemplateRejected    a template that would produce a broken message
    ├── AuthError
    │   ├── Unauthorized            401: missing or unknown API key
    │   └── Forbidden               403: key lacks the scope, or a bad webhook signature
    ├── NotFound                    404
    ├── Conflict                    409: stale version, state that forbids the action
    ├── InvalidTransition           a status change the lifecycle forbids (a bug if it escapes)
    └── ProviderError               a provider call failed; ``retryable`` says whether to try again

The API maps these to RFC 9457 problem details in one place (``notifier.api.problems``).
This module imports nothing from the rest of the project, so the domain may use it.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldError:
    """One reason a field was refused; ``pointer`` is a JSON pointer into the request body."""

    pointer: str
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"pointer": self.pointer, "detail": self.detail}


class NotifierError(Exception):
    """Base of every deliberate error in the service."""

    status = 500
    title = "Internal error"

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title


class ConfigError(NotifierError):
    """Configuration that cannot work; the message names the environment variable."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable


class InputError(NotifierError):
    status = 400
    title = "Bad request"


class MalformedRequest(InputError):
    status = 400
    title = "Malformed request"


class UnsupportedMediaType(InputError):
    status = 415
    title = "Unsupported media type"


class PayloadTooLarge(InputError):
    status = 413
    title = "Payload too large"


class UriTooLong(InputError):
    status = 414
    title = "URI too long"


class HeadersTooLarge(InputError):
    status = 431
    title = "Request header fields too large"


class ValidationFailed(InputError):
    status = 422
    title = "Validation failed"

    def __init__(self, errors: list[FieldError], detail: str = "") -> None:
        super().__init__(detail or "; ".join(f"{e.pointer}: {e.detail}" for e in errors))
        self.errors = list(errors)


class InvalidPhoneNumber(ValidationFailed):
    title = "Invalid phone number"

    def __init__(self, raw: str, reason: str, pointer: str = "") -> None:
        super().__init__([FieldError(pointer, reason)], reason)
        self.raw = raw
        self.reason = reason


class MissingTemplateValues(ValidationFailed):
    title = "Missing template values"

    def __init__(
        self, names: list[str], pointer: str = "/data", either: list[tuple[str, ...]] | None = None
    ) -> None:
        """``names`` lacks each one; ``either`` lacks every value of each group (one would do)."""
        names = sorted(set(names))
        groups = sorted(set(either or []))
        errors = [FieldError(f"{pointer}/{n}", "required by the template") for n in names]
        errors += [
            FieldError(f"{pointer}/{group[0]}", f"required by the template (or {' or '.join(group[1:])})")
            for group in groups
        ]
        wanted = [*names, *(" or ".join(group) for group in groups)]
        super().__init__(errors, "the data has no value for " + ", ".join(wanted))
        self.names = [*names, *(group[0] for group in groups)]


class TemplateRejected(ValidationFailed):
    title = "Template rejected"


class AuthError(NotifierError):
    status = 401
    title = "Unauthorized"


class Unauthorized(AuthError):
    status = 401
    title = "Unauthorized"


class Forbidden(AuthError):
    status = 403
    title = "Forbidden"


class NotFound(NotifierError):
    status = 404
    title = "Not found"


class Conflict(NotifierError):
    status = 409
    title = "Conflict"


class InvalidTransition(NotifierError):
    title = "Invalid status transition"


UNKNOWN_OUTCOME = "unknown_outcome"


@dataclass
class ProviderError(NotifierError):
    """A provider call failed. ``retryable`` errors are tried again with backoff.

    ``code == UNKNOWN_OUTCOME`` means the request may have reached the provider (a read
    timeout, a connection dropped after the request was sent): it is neither retried nor
    failed, but left for recovery, which asks the provider before anything is sent again.
    """

    retryable: bool
    code: str
    message: str
    provider: str = ""
    status_code: int | None = field(default=None)

    def __post_init__(self) -> None:
        NotifierError.__init__(self, f"{self.provider or 'provider'} {self.code}: {self.message}")
