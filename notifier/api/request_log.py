"""One masked JSON log line per request, instead of gunicorn's access log.

Paths are logged by their route (``/a/<token>``), never with the token itself, since the
links of the person's page and of unsubscribing are credentials; query strings are left out.
"""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, g, request

log = logging.getLogger("notifier.http")


def register(app: Flask) -> None:
    @app.before_request
    def _start() -> None:
        g.request_started = time.perf_counter()

    @app.after_request
    def _log(response: Response) -> Response:
        started = g.get("request_started")
        rule = request.url_rule.rule if request.url_rule is not None else "(no route)"
        log.info(
            "request",
            extra={
                "method": request.method,
                "route": rule,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
                "client": g.get("owner"),
            },
        )
        return response
