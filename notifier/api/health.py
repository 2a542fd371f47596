"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app
from sqlalchemy import text

from notifier.api.context import context
from notifier.api.problems import problem

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@bp.get("/readyz")
def readyz() -> Any:
    checks: dict[str, str] = {}
    try:
        with context().engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # report, do not crash
        checks["database"] = f"unreachable: {type(exc).__name__}"
    celery = current_app.extensions.get("celery")
    try:
        if celery is not None:
            with celery.connection_for_write() as connection:
                connection.ensure_connection(max_retries=1, timeout=2)
        checks["broker"] = "ok"
    except Exception as exc:  # report, do not crash
        checks["broker"] = f"unreachable: {type(exc).__name__}"
    if all(v == "ok" for v in checks.values()):
        return {"status": "ready", "checks": checks}
    return problem(503, "Not ready", "a dependency is unreachable", checks=checks)
