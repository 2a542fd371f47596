"""The HTTP API: one blueprint per resource, errors mapped to problem details in one place."""

from __future__ import annotations

from flask import Flask

from notifier.api import health, messages, openapi, outbox, problems, webhooks


def register_api(app: Flask) -> None:
    problems.register(app)
    for module in (health, messages, webhooks, outbox, openapi):
        app.register_blueprint(module.bp)
