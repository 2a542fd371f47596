"""The HTTP API: one blueprint per resource, errors mapped to problem details in one place."""

from __future__ import annotations

import os

from flask import Flask

from notifier.api import (
    appointments,
    attendance,
    campaigns,
    centers,
    health,
    keys,
    limits,
    messages,
    openapi,
    outbox,
    pages,
    problems,
    provider_callbacks,
    recipient_page,
    recipients,
    request_log,
    templates,
    unsubscribe,
    webhooks,
)


def register_api(app: Flask) -> None:
    problems.register(app)
    limits.register(app)  # first: sizes, paths and query strings before anything else reads them
    request_log.register(app)
    pages.register(app)
    for module in (
        health,
        messages,
        centers,
        appointments,
        attendance,
        campaigns,
        recipient_page,
        recipients,
        unsubscribe,
        templates,
        webhooks,
        keys,
        provider_callbacks,
        outbox,
    ):
        app.register_blueprint(module.bp)
    if os.environ.get("NOTIFIER_BENCH_ENDPOINTS") == "1":  # bench/intake.py only
        from notifier.api import bench

        app.register_blueprint(bench.bp)
    openapi.register(app)  # last: the document lists the routes registered above
