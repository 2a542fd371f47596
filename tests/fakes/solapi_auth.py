"""SOLAPI's request signature, checked the way api.solapi.com does, for the fake server.

The SDK sends ``Authorization: HMAC-SHA256 ApiKey=..., Date=..., salt=..., signature=...``
where signature = lowercase hex HMAC-SHA256(key=api secret, msg=date + salt). SOLAPI's
documentation spells the keys ``apiKey``/``date``: names are compared without case. A date
more than ``CLOCK_SKEW`` away from the server's clock, or a signature seen before within
that window, is refused. Every refusal is HTTP 403 with ``{"errorCode", "errorMessage"}``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

AUTH_ERROR_STATUS = 403
CLOCK_SKEW = timedelta(minutes=15)
SCHEME = "HMAC-SHA256"
REQUIRED = frozenset({"apikey", "date", "salt", "signature"})


class ApiError(Exception):
    """An HTTP error answer in SOLAPI's shape."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


def signature(secret: str, date: str, salt: str) -> str:
    """Compute the signature the SDK sends for ``date`` and ``salt``."""
    return hmac.new(secret.encode(), (date + salt).encode(), hashlib.sha256).hexdigest()


def authorization(api_key: str, secret: str, date: str, salt: str) -> str:
    """Build an Authorization header by hand (tests of skew and replay)."""
    return f"{SCHEME} ApiKey={api_key}, Date={date}, salt={salt}, signature={signature(secret, date, salt)}"


def parse_header(header: str | None) -> dict[str, str]:
    """Split the header into lower-cased parameter names and their values."""
    if not header:
        raise ApiError(AUTH_ERROR_STATUS, "InvalidAuthorization", "Authorization 헤더가 없습니다.")
    scheme, _, rest = header.strip().partition(" ")
    params: dict[str, str] = {}
    for part in rest.split(","):
        name, sep, value = part.strip().partition("=")
        if sep:
            params[name.strip().lower()] = value.strip()
    if scheme.upper() != SCHEME or not params.keys() >= REQUIRED:
        raise ApiError(AUTH_ERROR_STATUS, "InvalidAuthorization", "Authorization 헤더 형식이 잘못되었습니다.")
    return params


class SignatureChecker:
    """Check signatures for a set of accounts, remembering the ones already used."""

    def __init__(self, accounts: Mapping[str, str], clock: Callable[[], datetime]) -> None:
        self.accounts = dict(accounts)
        self._clock = clock
        self._seen: dict[str, datetime] = {}

    def check(self, header: str | None) -> str:
        """Return the request's API key, or raise ApiError where SOLAPI would refuse."""
        params = parse_header(header)
        secret = self.accounts.get(params["apikey"])
        if secret is None:
            raise ApiError(AUTH_ERROR_STATUS, "InvalidAPIKey", "유효한 API Key가 아닙니다.")
        expected = signature(secret, params["date"], params["salt"])
        if not hmac.compare_digest(expected, params["signature"]):
            raise ApiError(AUTH_ERROR_STATUS, "SignatureDoesNotMatch", "생성한 signature를 확인하세요.")
        try:
            signed_at = datetime.fromisoformat(params["date"])
        except ValueError:
            raise ApiError(
                AUTH_ERROR_STATUS, "InvalidAuthorization", "date는 ISO 8601이어야 합니다."
            ) from None
        if signed_at.tzinfo is None:
            signed_at = signed_at.replace(tzinfo=UTC)
        now = self._clock()
        if abs(now - signed_at) > CLOCK_SKEW:
            raise ApiError(AUTH_ERROR_STATUS, "RequestTimeTooSkewed", "서버 시간과 15분 이상 차이가 납니다.")
        self._seen = {sig: at for sig, at in self._seen.items() if now - at <= CLOCK_SKEW}
        if params["signature"] in self._seen:
            raise ApiError(
                AUTH_ERROR_STATUS, "DuplicatedSignature", "15분 안에 같은 signature가 사용되었습니다."
            )
        self._seen[params["signature"]] = now
        return params["apikey"]
