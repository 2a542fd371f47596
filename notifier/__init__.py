"""notifier: appointment reminders and programme announcements for Korean employment centres."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # importing the package must not pull in Flask (the domain stays pure)
    from flask import Flask

    from notifier.config import Settings
    from notifier.context import Context


def create_app(
    settings: Settings | None = None,
    ctx: Context | None = None,
    configure_logging: bool = False,
    **build: Any,
) -> Flask:
    """The Flask app factory: every entry point and test builds the app here."""
    from flask import Flask

    from notifier import bootstrap
    from notifier.api import register_api
    from notifier.bootstrap import wire
    from notifier.messages.publisher import Publisher
    from notifier.tasks import create_celery, make_publish

    ctx = ctx or bootstrap.build(settings, **build)
    if configure_logging:  # the serving process (gunicorn) owns its logging; tests do not
        from notifier import logs

        logs.configure(ctx.settings.log_level)
    celery = create_celery(ctx.settings)
    publisher = Publisher(make_publish(celery))  # requests answer without waiting for the broker
    ctx.publish = publisher
    wire(ctx)
    app = Flask(__name__, template_folder="web_templates")
    app.config.update(
        SECRET_KEY=ctx.settings.secret_key,
        MAX_CONTENT_LENGTH=ctx.settings.max_body_bytes,
        # The person's page link expires with the appointment; its form's CSRF token must not
        # expire sooner (a page opened in the morning is answered in the afternoon).
        WTF_CSRF_TIME_LIMIT=None,
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    if ctx.settings.trusted_proxies:
        # The address and scheme the client used, as the trusted proxies saw them; without
        # them a client's own X-Forwarded-For is not believed.
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = ctx.settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    app.extensions["notifier"] = ctx
    app.extensions["celery"] = celery
    app.extensions["publisher"] = publisher
    register_api(app)
    from notifier.console import register_console

    register_console(app)
    return app


def serve_app() -> Flask:
    """Build the app as ``notifier api`` serves it (gunicorn, one per worker process).

    Besides configuring the process's logging, it freezes the objects start-up made (modules,
    tables, schemas, compiled templates: about 150,000) out of the garbage collector's reach.
    Without that, each full collection walks all of them again: about 200 ms on a small virtual
    machine, during which every request of the worker waits (seen as the tail of
    docs/benchmarks.md, "Intake"). They live as long as the process anyway.
    """
    import gc

    app = create_app(configure_logging=True)
    gc.freeze()
    return app
