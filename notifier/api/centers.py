"""GET /v1/centers: the registry of centres messages are sent on behalf of."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from notifier.api.auth import requires
from notifier.api.context import context
from notifier.centers import service as centers

bp = Blueprint("centers", __name__, url_prefix="/v1/centers")


@bp.get("")
@requires(None)
def index() -> dict[str, Any]:
    return {"items": [c.as_dict() for c in centers.listing(context())]}
