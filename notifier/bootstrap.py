"""The one place that builds engines, clients and providers.

``create_app()``, ``worker.py``, the CLI and the tests all call ``build()``; tests pass
overrides (a pinned clock, a TLS context that trusts the test server) instead of patching.
"""

from __future__ import annotations

import ssl
from functools import partial
from pathlib import Path

from sqlalchemy import Engine

from notifier.appointments import service as appointments
from notifier.attendance import experiments
from notifier.campaigns import service as campaigns
from notifier.centers import service as centers
from notifier.channels.base import AlimtalkSender, EmailSender, SmsSender
from notifier.channels.breaker import RedisBreaker
from notifier.channels.failover import Breaker, FailoverSender, NoBreaker
from notifier.channels.outbox import OutboxSender
from notifier.config import Settings
from notifier.consent import opt_outs
from notifier.context import TEMPLATES_DIR, Clock, Context, utc_now
from notifier.messages import retention
from notifier.messages.model import Message
from notifier.messages.throttle import Bucket, RedisThrottle
from notifier.staff import housekeeping
from notifier.storage.db import make_engine
from notifier.templates import repository as template_repo
from notifier.templates.files import load_directory
from notifier.templates.rendering import Renderer
from notifier.webhooks import service as webhooks

__all__ = ["Context", "build", "load_shipped_data", "sms_providers", "wire"]


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
    outbox = OutboxSender(engine, clock)
    email: EmailSender = outbox
    if settings.smtp is not None:
        from notifier.channels.smtp import SmtpSender

        email = SmtpSender(settings.smtp, smtp_ssl_context)
    redis_client = None
    if settings.broker_url.startswith(("redis://", "rediss://")):
        import redis

        redis_client = redis.Redis.from_url(settings.broker_url)
    breaker: Breaker = NoBreaker()
    if redis_client is not None:  # shared by every worker: a provider leaves rotation for all
        seconds = partial(_seconds, clock)
        breaker = RedisBreaker(redis_client, settings.broker_key_prefix, settings.breaker, seconds)
    sms = FailoverSender(sms_providers(settings, outbox), settings.sms_routes, breaker)
    return Context(
        settings=settings,
        engine=engine,
        renderer=Renderer(templates_dir / "_layout"),
        sms=sms,
        email=email,
        clock=clock,
        templates_dir=templates_dir,
        redis=redis_client,
        alimtalk=alimtalk_sender(settings, sms),
    )


def alimtalk_sender(settings: Settings, sms: FailoverSender) -> AlimtalkSender | None:
    """SOLAPI sends AlimTalk when it is configured (the SMS providers' SOLAPI object, if any)."""
    if settings.solapi is None:
        return None
    from notifier.channels.solapi import SolapiSender

    solapi = sms.providers.get("solapi")
    return solapi if isinstance(solapi, SolapiSender) else SolapiSender(settings.solapi)


def sms_providers(settings: Settings, outbox: SmsSender) -> dict[str, SmsSender]:
    """The configured SMS providers by name (the outbox when there is none).

    Their order of preference is ``settings.sms_routes`` (SOLAPI first by default: it sends
    from the centre's registered number, where Twilio reaches Korean handsets as an
    international message marked [국제발신]).
    """
    providers: dict[str, SmsSender] = {}
    if settings.solapi is not None:
        from notifier.channels.solapi import SolapiSender

        providers["solapi"] = SolapiSender(settings.solapi)
    if settings.twilio is not None:
        from notifier.channels.twilio_sms import TwilioSender

        providers["twilio"] = TwilioSender(settings.twilio, timeout=settings.provider_timeout)
    return providers or {outbox.name: outbox}


def _seconds(clock: Clock) -> float:
    return clock().timestamp()


def wire(ctx: Context) -> Context:
    """Attach what features contribute: claim checks, scheduler tick hooks and the throttle.

    Calling it twice registers nothing twice.
    """
    if ctx.wired:
        return ctx
    ctx.wired = True
    appointments.register(ctx)
    experiments.register(ctx)
    webhooks.register(ctx)
    opt_outs.register(ctx)
    campaigns.register(ctx)
    ctx.tick_hooks.append(retention.scrub_old_messages)
    ctx.tick_hooks.append(housekeeping.forget_stale)
    if ctx.redis is not None:  # the per-sender rate limit of every lane, shared by every worker
        ctx.throttle = RedisThrottle(ctx.redis, ctx.settings.broker_key_prefix, partial(_buckets_of, ctx))
    return ctx


def _buckets_of(ctx: Context, message: Message) -> list[Bucket]:
    """The rates a message is subject to, asked of the campaigns feature."""
    # ``sender_buckets`` reads a row mapping, like the claim checks: give it the columns it reads.
    row = {
        "channel": message.channel,
        "sender": message.sender,
        "campaign_id": message.campaign_id,
        "provider": message.provider,
    }
    return campaigns.sender_buckets(ctx, row)


def load_shipped_data(ctx: Context) -> None:
    """Store shipped templates (as version 1 of new keys) and the shipped centres."""
    with ctx.engine.begin() as conn:
        template_repo.sync_shipped(conn, load_directory(ctx.templates_dir), ctx.clock())
    centers.load(ctx, centers.parse_file(centers.SHIPPED))
