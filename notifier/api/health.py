"""Liveness and readiness."""

from __future__ import annotations

from typing import Any, Literal

from flask import Blueprint, current_app
from sqlalchemy import text

from notifier.api.context import context
from notifier.api.openapi import PUBLIC, Answers, doc, problems
from notifier.api.problems import problem
from notifier.responses import ResponseModel

bp = Blueprint("health", __name__)


class Alive(ResponseModel):
    status: Literal["ok"]


class Ready(ResponseModel):
    status: Literal["ready"]
    checks: dict[str, Literal["ok"]]


@bp.get("/healthz")
@doc(resp=Answers(HTTP_200=(Alive, "ok")), security=PUBLIC)
def healthz() -> dict[str, Any]:
    """Process alive"""
    return Alive(status="ok").dump()


@bp.get("/readyz")
@doc(resp=Answers(HTTP_200=(Ready, "ready"), **problems(503)), security=PUBLIC)
def readyz() -> Any:
    """Database and broker reachable

    503 names each dependency that is not, in `checks`.
    """
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
        return Ready(status="ready", checks={name: "ok" for name in checks}).dump()
    return problem(503, "Not ready", "a dependency is unreachable", checks=checks)
