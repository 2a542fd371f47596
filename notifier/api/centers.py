"""GET /v1/centers: the registry of centres messages are sent on behalf of."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from notifier.api.auth import requires
from notifier.api.context import context
from notifier.api.openapi import Answers, doc, problems, scope
from notifier.centers import service as centers
from notifier.centers.service import CenterList

bp = Blueprint("centers", __name__, url_prefix="/v1/centers")


@bp.get("")
@doc(resp=Answers(HTTP_200=(CenterList, "Every registered centre"), **problems(401)), security=scope(None))
@requires(None)
def index() -> dict[str, Any]:
    """The centres messages can be sent on behalf of"""
    return CenterList(items=[c.info() for c in centers.listing(context())]).dump()
