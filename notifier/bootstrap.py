"""The one place that builds engines, clients and providers.

``create_app()``, ``worker.py``, the CLI and the tests all call ``build()``; tests pass
overrides (a pinned clock, a TLS context that trusts the test server) instead of patching.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from notifier.channels.base import EmailSender, SmsSender
from notifier.channels.sandbox import SandboxSender
from notifier.config import Settings
from notifier.lookups import Lookups
from notifier.rendering import Renderer
from notifier.storage.db import make_engine

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Context:
    """Everything a service function needs, built once per process."""

    settings: Settings
    engine: Engine
    renderer: Renderer
    sms: SmsSender
    email: EmailSender
    clock: Clock = utc_now
    templates_dir: Path = TEMPLATES_DIR
    enqueue: Callable[[str, list[str]], None] = field(default=lambda lane, ids: None)
    extras: dict[str, Any] = field(default_factory=dict)
    lookups: Lookups = field(init=False)
    intake_writer: Any = field(init=False, default=None, repr=False)  # see services.intake

    def __post_init__(self) -> None:
        self.lookups = Lookups(self.settings.lookup_ttl_seconds)

    @property
    def sms_sandboxed(self) -> bool:
        return self.settings.twilio is None

    @property
    def email_sandboxed(self) -> bool:
        return self.settings.smtp is None


def build(
    settings: Settings | None = None,
    *,
    clock: Clock = utc_now,
    smtp_ssl_context: ssl.SSLContext | None = None,
    templates_dir: Path | None = None,
    engine: Engine | None = None,
) -> Context:
    """Build the context for one process. Opens no connection until first use."""
    settings = settings or Settings.from_env()
    engine = engine or make_engine(settings.database_url)
    templates_dir = templates_dir or TEMPLATES_DIR
    sandbox = SandboxSender(engine, clock)
    sms: SmsSender = sandbox
    email: EmailSender = sandbox
    if settings.twilio is not None:
        from notifier.channels.twilio_sms import TwilioSender

        sms = TwilioSender(settings.twilio, timeout=settings.provider_timeout)
    if settings.smtp is not None:
        from notifier.channels.smtp import SmtpSender

        email = SmtpSender(settings.smtp, smtp_ssl_context)
    return Context(
        settings=settings,
        engine=engine,
        renderer=Renderer(templates_dir / "_layout"),
        sms=sms,
        email=email,
        clock=clock,
        templates_dir=templates_dir,
    )
