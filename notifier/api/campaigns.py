"""Campaigns (scope ``campaigns``): create with a validation report, test, start, watch, cancel.

``POST /v1/campaigns`` takes JSON (inline ``recipients`` or a ``filter`` over stored
recipients) or multipart form data with a CSV ``file`` and the same fields as form fields
(``data`` as a JSON string). Only the multipart form may be large: the request size limit is
raised to ``NOTIFIER_MAX_UPLOAD_BYTES`` for it alone, and the file is read as a stream.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, json, request, stream_with_context
from pydantic import Field, ValidationError

from notifier.api.auth import requires
from notifier.api.context import context
from notifier.api.problems import parse_json, validation_errors
from notifier.campaigns import service as campaigns
from notifier.campaigns.render import send_test
from notifier.campaigns.service import CampaignIn, SendTestIn, StartIn
from notifier.domain.status import Status
from notifier.errors import FieldError, UnsupportedMediaType, ValidationFailed
from notifier.schemas import Strict

bp = Blueprint("campaigns", __name__, url_prefix="/v1/campaigns")
MULTIPART = "multipart/form-data"


class MessagesQuery(Strict):
    status: Status | None = None
    limit: int = Field(default=50, ge=1, le=500)
    cursor: str | None = Field(default=None, max_length=500)


def _validate(model: type[Any], raw: dict[str, Any]) -> Any:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise ValidationFailed(validation_errors(exc)) from exc


def _multipart() -> tuple[CampaignIn, Any]:
    """The form fields as a CampaignIn, and the uploaded CSV file."""
    raw: dict[str, Any] = dict(request.form.items())
    if "data" in raw:
        try:
            raw["data"] = json.loads(raw["data"])
        except ValueError as exc:
            raise ValidationFailed([FieldError("/data", f"not JSON: {exc}")]) from exc
    upload = request.files.get("file")
    spec = _validate(CampaignIn, raw)
    if upload is None or not upload.filename:
        raise ValidationFailed([FieldError("/file", "attach the recipient list as a CSV file named 'file'")])
    return spec, upload


@bp.post("")
@requires("campaigns")
def create() -> tuple[dict[str, Any], int]:
    ctx = context()
    if request.mimetype == MULTIPART:
        request.max_content_length = ctx.settings.max_upload_bytes
        spec, upload = _multipart()
        return campaigns.create_campaign(ctx, g.owner, spec, upload.stream), 201
    if not request.is_json:
        raise UnsupportedMediaType("send JSON, or multipart/form-data with a CSV file")
    spec, _ = parse_json(CampaignIn)
    return campaigns.create_campaign(ctx, g.owner, spec), 201


@bp.get("/<campaign_id>")
@requires("campaigns")
def show(campaign_id: str) -> dict[str, Any]:
    return campaigns.get_campaign(context(), g.owner, campaign_id)


@bp.get("/<campaign_id>/messages")
@requires("campaigns")
def messages(campaign_id: str) -> dict[str, Any]:
    query = _validate(MessagesQuery, request.args.to_dict())
    return campaigns.list_campaign_messages(
        context(),
        g.owner,
        campaign_id,
        status=query.status.value if query.status else None,
        limit=query.limit,
        cursor=query.cursor,
    )


@bp.get("/<campaign_id>/rejections.csv")
@requires("campaigns")
def rejections(campaign_id: str) -> Response:
    lines = campaigns.rejections_csv(context(), g.owner, campaign_id)
    return Response(
        stream_with_context(lines),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="campaign-{campaign_id}-rejections.csv"'},
    )


@bp.post("/<campaign_id>/test")
@requires("campaigns")
def test(campaign_id: str) -> tuple[dict[str, Any], int]:
    body, _ = parse_json(SendTestIn)
    return send_test(context(), g.owner, campaign_id, phone=body.phone, email=body.email), 202


@bp.post("/<campaign_id>/start")
@requires("campaigns")
def start(campaign_id: str) -> dict[str, Any]:
    body = parse_json(StartIn)[0] if request.content_length else StartIn()
    return campaigns.start_campaign(context(), g.owner, campaign_id, body.at)


@bp.post("/<campaign_id>/cancel")
@requires("campaigns")
def cancel(campaign_id: str) -> dict[str, Any]:
    return campaigns.cancel_campaign(context(), g.owner, campaign_id)
