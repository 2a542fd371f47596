"""One Settings object, read from the environment, with documented defaults.

Every variable is listed in the README. A value that cannot work fails at start-up with a
``ConfigError`` naming the variable, never later in a worker.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from notifier.domain.breaker import BreakerRules
from notifier.domain.prices import PriceTable, parse_prices
from notifier.domain.quiet_hours import QuietHours
from notifier.domain.reminders import parse_offsets
from notifier.domain.routes import SmsRoutes, parse_routes
from notifier.env_values import env_flag, env_float, env_int
from notifier.errors import ConfigError

DEFAULT_TWILIO_BASE_URL = "https://api.twilio.com"
DEFAULT_SOLAPI_BASE_URL = "https://api.solapi.com"
WEBHOOK_SECRET_PATTERN = r"[A-Za-z0-9_\-]{32,128}"  # noqa: S105 (a pattern, not a secret)
TRANSACTIONAL_QUEUE = "transactional"
BULK_QUEUE = "bulk"
# What a provider account typically allows: Twilio's default for one long code sender is far
# lower, a short code or a raised account limit higher; set NOTIFIER_RATE_LIMIT_PER_SECOND.
DEFAULT_RATE_LIMITS = (("twilio", 30.0), ("smtp", 100.0))
# Our cap on one SOLAPI send-many call (SOLAPI takes 10,000; see channels.solapi.MAX_BATCH),
# and the default: a batch must register within the SDK's fixed 5 s timeout.
SOLAPI_MAX_BATCH = 1000
DEFAULT_SOLAPI_BATCH = 500


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to hand mail over: ``smtp://user:pass@host:port?starttls=true`` or smtps."""

    host: str
    port: int
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    implicit_tls: bool = False
    timeout: float | None = None  # None: NOTIFIER_PROVIDER_TIMEOUT_SECONDS

    @classmethod
    def parse(cls, url: str) -> SmtpSettings:
        """Parse ``NOTIFIER_SMTP_URL``."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ConfigError("NOTIFIER_SMTP_URL", "scheme must be smtp:// or smtps://")
        if not parts.hostname:
            raise ConfigError("NOTIFIER_SMTP_URL", "a host is required")
        try:
            port = parts.port
        except ValueError as exc:
            raise ConfigError("NOTIFIER_SMTP_URL", "the port is not a number") from exc
        query = {k: v[-1].lower() for k, v in parse_qs(parts.query).items()}
        unknown = set(query) - {"starttls", "timeout"}
        if unknown:
            raise ConfigError("NOTIFIER_SMTP_URL", f"unknown option(s): {', '.join(sorted(unknown))}")
        starttls = query.get("starttls", "false") in ("1", "true", "yes")
        implicit = parts.scheme == "smtps"
        if starttls and implicit:
            raise ConfigError("NOTIFIER_SMTP_URL", "use either smtps:// or ?starttls=true, not both")
        try:
            timeout = float(query["timeout"]) if "timeout" in query else None
        except ValueError as exc:
            raise ConfigError("NOTIFIER_SMTP_URL", "timeout must be a number of seconds") from exc
        username = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password else None
        if not f"{username or ''}{password or ''}".isascii():
            # smtplib sends AUTH credentials as ASCII; anything else could never log in.
            raise ConfigError("NOTIFIER_SMTP_URL", "the user name and password must be ASCII")
        return cls(
            host=parts.hostname,
            port=port or (465 if implicit else 25),
            username=username,
            password=password,
            starttls=starttls,
            implicit_tls=implicit,
            timeout=timeout,
        )


@dataclass(frozen=True)
class TwilioSettings:
    account_sid: str
    auth_token: str
    default_from: str
    base_url: str = DEFAULT_TWILIO_BASE_URL


@dataclass(frozen=True)
class SolapiSettings:
    """A SOLAPI account: a domestic gateway that sends from the centre's registered number."""

    api_key: str
    api_secret: str = field(repr=False)
    base_url: str = DEFAULT_SOLAPI_BASE_URL
    # The secret path segment of the delivery-report URL given to SOLAPI's console
    # (POST {public_url}/webhooks/solapi/{secret}); None: reports are refused.
    webhook_secret: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Settings:
    """Everything the service reads from its environment."""

    database_url: str
    broker_url: str
    public_url: str
    timezone: ZoneInfo
    secret_key: str
    twilio: TwilioSettings | None = None
    solapi: SolapiSettings | None = None
    smtp: SmtpSettings | None = None
    mail_from: str = "noreply@localhost"
    reminder_offsets: tuple[timedelta, ...] = (timedelta(hours=24), timedelta(hours=2))
    quiet_hours: QuietHours = field(default_factory=QuietHours)
    max_attempts: int = 5
    retry_base_seconds: float = 2.0
    retry_max_seconds: float = 300.0
    stuck_after: timedelta = timedelta(minutes=5)
    provider_timeout: float = 10.0
    requeue_after: timedelta = timedelta(minutes=2)
    scheduler_interval: float = 2.0
    message_validity: timedelta = timedelta(hours=24)
    retention_days: int = 30  # finished messages lose content and addresses after this
    max_body_bytes: int = 1024 * 1024
    # Campaign CSV uploads only (POST /v1/campaigns as multipart); read as a stream, not into memory.
    max_upload_bytes: int = 200 * 1024 * 1024
    # Messages per second per provider and sender, shared by every worker (0: no limit).
    rate_limits: tuple[tuple[str, float], ...] = DEFAULT_RATE_LIMITS
    broker_key_prefix: str = ""
    log_level: str = "INFO"
    # SMS providers in order of preference (per centre), the circuit breaker, the price table.
    sms_routes: SmsRoutes = field(default_factory=SmsRoutes)
    breaker: BreakerRules = field(default_factory=BreakerRules)
    prices: PriceTable = field(default_factory=PriceTable)
    solapi_batch_size: int = DEFAULT_SOLAPI_BATCH
    # Let webhooks go to loopback and private addresses: development and tests only.
    webhook_allow_private: bool = False
    # How long the API reuses an API key, a template's current version, a centre or the
    # registered senders it read (see notifier/lookups.py); 0 reads them on every request.
    lookup_ttl_seconds: float = 5.0
    # Console cookies carry ``Secure`` (default: when NOTIFIER_PUBLIC_URL is https://).
    secure_cookies: bool = False
    # The outbox page without login although a provider is configured (a staging machine whose
    # messages reach no real person); by default only a trial's outbox, with no provider, is public.
    public_outbox: bool = False
    # How many proxies in front of the service append to X-Forwarded-For / -Proto: their word is
    # taken for the client's address (the console's lock-out and audit log, the key audit).
    trusted_proxies: int = 0
    # A console session unused for this long is over.
    console_idle_timeout: timedelta = timedelta(minutes=30)
    # The client (API key owner) the console's campaigns act for: their stored recipients and
    # advertising consents are that owner's.
    console_owner: str = "console"

    @property
    def sandbox(self) -> bool:
        """True when no provider at all is configured: a trial, whose outbox anyone may see."""
        return self.twilio is None and self.solapi is None and self.smtp is None

    @property
    def outbox_shown(self) -> bool:
        """Whether ``/outbox`` may be shown, to anyone: a trial's, or where staging allows it.

        With a provider configured the outbox holds what real people's messages would have
        said (an email to a centre's job seeker, when only SMS has a provider), and the page has
        no login: it is refused unless NOTIFIER_PUBLIC_OUTBOX says this machine reaches nobody.
        """
        return bool(self.outbox_channels) and (self.sandbox or self.public_outbox)

    @property
    def outbox_channels(self) -> tuple[str, ...]:
        """The channels whose messages stay in the outbox: no SMS provider, or no SMTP server."""
        sms = () if self.twilio is not None or self.solapi is not None else ("sms",)
        return sms + (() if self.smtp is not None else ("email",))

    @property
    def broker_is_embedded(self) -> bool:
        return self.broker_url.startswith("sqla+")

    def rate_limit_for(self, provider: str) -> float:
        """Messages per second allowed for ``provider`` (0 means unlimited)."""
        return dict(self.rate_limits).get(provider, 0.0)

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read and check every ``NOTIFIER_*``, ``TWILIO_*`` and ``SOLAPI_*`` variable."""
        env = os.environ if environ is None else environ
        data_dir = Path(env.get("NOTIFIER_DATA_DIR", "instance"))
        database_url = env.get("NOTIFIER_DATABASE_URL") or f"sqlite:///{data_dir / 'notifier.sqlite'}"
        if not database_url.startswith(("sqlite", "postgresql")):
            raise ConfigError("NOTIFIER_DATABASE_URL", "must be a sqlite:// or postgresql:// URL")
        if database_url.startswith("postgresql://"):
            database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
        broker_url = env.get("NOTIFIER_BROKER_URL") or f"sqla+sqlite:///{data_dir / 'broker.sqlite'}"
        if not broker_url.startswith(("redis://", "rediss://", "amqp://", "amqps://", "sqla+")):
            raise ConfigError("NOTIFIER_BROKER_URL", "must be a redis:// or amqp:// URL (unset: embedded)")
        public_url = env.get("NOTIFIER_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
        if not public_url.startswith(("http://", "https://")):
            raise ConfigError("NOTIFIER_PUBLIC_URL", "must start with http:// or https://")
        provider_timeout = env_float(env, "NOTIFIER_PROVIDER_TIMEOUT_SECONDS", 10.0, maximum=120.0)
        smtp = SmtpSettings.parse(env["NOTIFIER_SMTP_URL"]) if env.get("NOTIFIER_SMTP_URL") else None
        if smtp is not None and smtp.timeout is None:
            smtp = replace(smtp, timeout=provider_timeout)
        stuck_after = timedelta(seconds=env_int(env, "NOTIFIER_STUCK_AFTER_SECONDS", 300, minimum=1))
        longest_call = max(provider_timeout, smtp.timeout if smtp and smtp.timeout else 0.0)
        if stuck_after.total_seconds() < 3 * longest_call:
            # Recovery must never take over a message whose provider call may still be running.
            raise ConfigError(
                "NOTIFIER_STUCK_AFTER_SECONDS",
                f"must be at least three provider timeouts ({3 * longest_call:g} s); "
                "lower NOTIFIER_PROVIDER_TIMEOUT_SECONDS or raise this",
            )
        return cls(
            database_url=database_url,
            broker_url=broker_url,
            public_url=public_url,
            timezone=_zone(env.get("NOTIFIER_TIMEZONE", "Asia/Seoul")),
            secret_key=env.get("NOTIFIER_SECRET_KEY") or _dev_secret(data_dir),
            twilio=_twilio(env),
            solapi=_solapi(env),
            smtp=smtp,
            provider_timeout=provider_timeout,
            mail_from=env.get("NOTIFIER_MAIL_FROM", "noreply@localhost"),
            reminder_offsets=_offsets(env.get("NOTIFIER_REMINDER_OFFSETS", "24h,2h")),
            quiet_hours=_quiet(env.get("NOTIFIER_QUIET_HOURS", "21:00-08:00")),
            max_attempts=env_int(env, "NOTIFIER_MAX_ATTEMPTS", 5, minimum=1),
            retention_days=env_int(env, "NOTIFIER_RETENTION_DAYS", 30, minimum=1),
            stuck_after=stuck_after,
            requeue_after=timedelta(seconds=env_int(env, "NOTIFIER_REQUEUE_AFTER_SECONDS", 120, minimum=1)),
            scheduler_interval=env_float(env, "NOTIFIER_SCHEDULER_INTERVAL", 2.0, maximum=10.0),
            retry_base_seconds=env_float(env, "NOTIFIER_RETRY_BASE_SECONDS", 2.0, maximum=3600.0),
            max_body_bytes=env_int(env, "NOTIFIER_MAX_BODY_BYTES", 1024 * 1024, minimum=1024),
            max_upload_bytes=env_int(env, "NOTIFIER_MAX_UPLOAD_BYTES", 200 * 1024 * 1024, minimum=1024),
            rate_limits=_rate_limits(env.get("NOTIFIER_RATE_LIMIT_PER_SECOND", "")),
            broker_key_prefix=env.get("NOTIFIER_BROKER_KEY_PREFIX", ""),
            log_level=env.get("NOTIFIER_LOG_LEVEL", "INFO").upper(),
            webhook_allow_private=env_flag(env, "NOTIFIER_WEBHOOK_ALLOW_PRIVATE"),
            # At most a minute: the same time bounds how long a revoked key keeps working.
            lookup_ttl_seconds=env_float(env, "NOTIFIER_LOOKUP_TTL_SECONDS", 5.0, maximum=60.0, zero_ok=True),
            **_providers(env),
            secure_cookies=(
                env_flag(env, "NOTIFIER_SECURE_COOKIES")
                if env.get("NOTIFIER_SECURE_COOKIES", "").strip()
                else public_url.startswith("https://")
            ),
            console_idle_timeout=timedelta(
                minutes=env_int(env, "NOTIFIER_CONSOLE_IDLE_MINUTES", 30, minimum=1)
            ),
            console_owner=env.get("NOTIFIER_CONSOLE_OWNER", "console")[:100] or "console",
            public_outbox=env_flag(env, "NOTIFIER_PUBLIC_OUTBOX"),
            trusted_proxies=env_int(env, "NOTIFIER_TRUSTED_PROXIES", 0, minimum=0),
        )


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError("NOTIFIER_TIMEZONE", f"unknown time zone {name!r}") from exc


def _offsets(spec: str) -> tuple[timedelta, ...]:
    try:
        return parse_offsets(spec)
    except ValueError as exc:
        raise ConfigError("NOTIFIER_REMINDER_OFFSETS", str(exc)) from exc


def _quiet(spec: str) -> QuietHours:
    try:
        return QuietHours.parse(spec)
    except ValueError as exc:
        raise ConfigError("NOTIFIER_QUIET_HOURS", str(exc)) from exc


def _rate_limits(spec: str) -> tuple[tuple[str, float], ...]:
    """Parse '50' (every provider) or 'twilio=30,smtp=100' (per provider, others default)."""
    name = "NOTIFIER_RATE_LIMIT_PER_SECOND"
    spec = spec.strip()
    if not spec:
        return DEFAULT_RATE_LIMITS
    limits = dict(DEFAULT_RATE_LIMITS)
    if "=" not in spec:
        limits = {provider: _rate(name, spec) for provider in limits}
    else:
        for part in spec.split(","):
            provider, _, value = part.partition("=")
            if not provider.strip() or not value.strip():
                raise ConfigError(name, f"expected provider=rate pairs such as 'twilio=30', got {part!r}")
            limits[provider.strip()] = _rate(name, value)
    return tuple(sorted(limits.items()))


def _rate(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(name, f"must be a number of messages per second, got {raw!r}") from exc
    if not 0 <= value <= 100_000:
        raise ConfigError(name, "must be between 0 (no limit) and 100000")
    return value


def _twilio(env: Mapping[str, str]) -> TwilioSettings | None:
    sid, token = env.get("TWILIO_ACCOUNT_SID", ""), env.get("TWILIO_AUTH_TOKEN", "")
    if not sid and not token:
        return None
    if not sid:
        raise ConfigError("TWILIO_ACCOUNT_SID", "is required when TWILIO_AUTH_TOKEN is set")
    if not token:
        raise ConfigError("TWILIO_AUTH_TOKEN", "is required when TWILIO_ACCOUNT_SID is set")
    if not (sid.startswith("AC") and len(sid) == 34):
        raise ConfigError("TWILIO_ACCOUNT_SID", "must look like AC followed by 32 characters")
    sender = env.get("TWILIO_FROM", "")
    if not sender:
        raise ConfigError("TWILIO_FROM", "is required when Twilio is configured")
    base_url = env.get("NOTIFIER_TWILIO_BASE_URL", DEFAULT_TWILIO_BASE_URL).rstrip("/")
    if not base_url.startswith(("http://", "https://")):
        raise ConfigError("NOTIFIER_TWILIO_BASE_URL", "must start with http:// or https://")
    return TwilioSettings(account_sid=sid, auth_token=token, default_from=sender, base_url=base_url)


def _solapi(env: Mapping[str, str]) -> SolapiSettings | None:
    key, secret = env.get("SOLAPI_API_KEY", ""), env.get("SOLAPI_API_SECRET", "")
    if not key and not secret:
        if env.get("NOTIFIER_SOLAPI_WEBHOOK_SECRET"):
            raise ConfigError("SOLAPI_API_KEY", "is required when NOTIFIER_SOLAPI_WEBHOOK_SECRET is set")
        return None
    if not key:
        raise ConfigError("SOLAPI_API_KEY", "is required when SOLAPI_API_SECRET is set")
    if not secret:
        raise ConfigError("SOLAPI_API_SECRET", "is required when SOLAPI_API_KEY is set")
    base_url = env.get("NOTIFIER_SOLAPI_BASE_URL", DEFAULT_SOLAPI_BASE_URL).rstrip("/")
    if not base_url.startswith(("http://", "https://")):
        raise ConfigError("NOTIFIER_SOLAPI_BASE_URL", "must start with http:// or https://")
    webhook_secret = env.get("NOTIFIER_SOLAPI_WEBHOOK_SECRET") or None
    if webhook_secret is not None and not re.fullmatch(WEBHOOK_SECRET_PATTERN, webhook_secret):
        raise ConfigError(
            "NOTIFIER_SOLAPI_WEBHOOK_SECRET",
            "must be 32 to 128 letters, digits, '-' or '_' (a URL path segment)",
        )
    return SolapiSettings(api_key=key, api_secret=secret, base_url=base_url, webhook_secret=webhook_secret)


def _providers(env: Mapping[str, str]) -> dict[str, Any]:
    """Read the SMS provider order, the circuit breaker, the price table and the batch size."""
    try:
        routes = parse_routes(env.get("NOTIFIER_SMS_PROVIDERS", ""))
    except ValueError as exc:
        raise ConfigError("NOTIFIER_SMS_PROVIDERS", str(exc)) from exc
    try:
        prices = parse_prices(env.get("NOTIFIER_PRICES", ""))
    except ValueError as exc:
        raise ConfigError("NOTIFIER_PRICES", str(exc)) from exc
    breaker = BreakerRules(
        consecutive=env_int(env, "NOTIFIER_BREAKER_FAILURES", 5, minimum=1),
        window_seconds=env_float(env, "NOTIFIER_BREAKER_WINDOW_SECONDS", 30.0, maximum=3600.0),
        min_calls=env_int(env, "NOTIFIER_BREAKER_MIN_CALLS", 10, minimum=1),
        cooldown_seconds=env_float(env, "NOTIFIER_BREAKER_COOLDOWN_SECONDS", 30.0, maximum=3600.0),
    )
    batch = env_int(env, "NOTIFIER_SOLAPI_BATCH_SIZE", DEFAULT_SOLAPI_BATCH, minimum=1)
    if batch > SOLAPI_MAX_BATCH:
        raise ConfigError("NOTIFIER_SOLAPI_BATCH_SIZE", f"must be at most {SOLAPI_MAX_BATCH}")
    return {"sms_routes": routes, "prices": prices, "breaker": breaker, "solapi_batch_size": batch}


def _dev_secret(data_dir: Path) -> str:
    """Keep one random secret per data folder, so embedded runs need no setup."""
    import secrets

    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32)
    path.write_text(value)
    path.chmod(0o600)
    return value
