"""Wire feature services into a context, and load the data the project ships."""

from __future__ import annotations

from notifier.bootstrap import Context
from notifier.services import appointments, campaigns, centers, suppression, webhooks
from notifier.services.templates import load_directory
from notifier.storage import templates as template_repo


def wire(ctx: Context) -> Context:
    """Attach the hooks feature modules contribute (claim checks, tick hooks, throttles).

    Each feature module has a ``register(ctx)``; calling ``wire`` twice registers nothing twice.
    """
    if ctx.extras.get("wired"):
        return ctx
    ctx.extras["wired"] = True
    ctx.extras.setdefault("claim_checks", [])
    ctx.extras.setdefault("tick_hooks", [])
    # feature registrations (one line each):
    appointments.register(ctx)
    webhooks.register(ctx)
    suppression.register(ctx)
    campaigns.register(ctx)
    return ctx


def load_shipped_data(ctx: Context) -> None:
    """Store shipped templates (as version 1 of new keys) and the shipped centres."""
    with ctx.engine.begin() as conn:
        template_repo.sync_shipped(conn, load_directory(ctx.templates_dir), ctx.clock())
    centers.load(ctx, centers.parse_file(centers.SHIPPED))
