"""Campaigns (scope ``campaigns``): create with a validation report, test, start, watch, cancel.

``POST /v1/campaigns`` takes JSON (inline ``recipients`` or a ``filter`` over stored
recipients) or multipart form data with a CSV ``file`` and the same fields as form fields
(``data`` as a JSON string). Only the multipart form may be large: the request size limit is
raised to ``NOTIFIER_MAX_UPLOAD_BYTES`` for it alone, and the file is read as a stream.
"""

from __future__ import annotations

from typing import Any, get_args

from flask import Blueprint, Response, g, json, request, stream_with_context
from pydantic import ConfigDict, Field, ValidationError, create_model

from notifier.api.auth import acting_key, requires
from notifier.api.context import context
from notifier.api.limits import refuse_unstorable
from notifier.api.openapi import Answers, doc, problems, scope, text
from notifier.api.problems import parse_json, validation_errors
from notifier.campaigns import service as campaigns
from notifier.campaigns.render import CampaignTestSend, send_test
from notifier.campaigns.service import ADVERTISING_SMS_NEEDS_OPT_OUT, CampaignIn, SendTestIn, StartIn
from notifier.campaigns.views import Campaign, CampaignList
from notifier.domain.message_status import Status
from notifier.errors import FieldError, UnsupportedMediaType, ValidationFailed
from notifier.messages.views import MessageList
from notifier.schemas import CURSOR_RULE, Query
from notifier.staff.audit import Actor

bp = Blueprint("campaigns", __name__, url_prefix="/v1/campaigns")
MULTIPART = "multipart/form-data"
SECURITY = scope("campaigns")


def _left_out_not_null(annotation: Any) -> Any:
    """A form field has no null: an optional one is left out (``X | None`` documented as ``X``)."""
    options = [option for option in get_args(annotation) if option is not type(None)]
    return options[0] if len(options) == 1 and len(get_args(annotation)) == 2 else annotation


def _form_schema(schema: dict[str, Any]) -> None:
    """The form's rules, and no ``null`` default: a form field left out has none."""
    schema.update(ADVERTISING_SMS_NEEDS_OPT_OUT)
    for field in schema.get("properties", {}).values():
        if "default" in field and field["default"] is None:
            del field["default"]


# The multipart form: CampaignIn's fields as form fields, with the list as a CSV file.
_UPLOAD_FIELDS: dict[str, Any] = {
    "file": (
        bytes,
        Field(
            description="header row: `phone`, `email`, `name`, `locale` and template values; "
            "UTF-8, UTF-8 with BOM or CP949. A file without a header row that names a `phone` or "
            "an `email` column, or without a row after it, is refused (422)"
        ),
    ),
    "data": (
        str,
        Field(default=None, description="a JSON object: template values common to all (else 422)"),
    ),
    **{
        name: (_left_out_not_null(field.annotation), field)
        for name, field in CampaignIn.model_fields.items()
        if name not in ("data", "recipients", "filter")
    },
}
CampaignUpload = create_model(
    "CampaignUpload",
    __doc__="A CSV `file` and the campaign's other fields as form fields (`data` as a JSON string).",
    __config__=ConfigDict(extra="forbid", json_schema_extra=_form_schema),
    **_UPLOAD_FIELDS,
)


class CampaignsQuery(Query):
    limit: int = Field(default=50, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=500, description=CURSOR_RULE)


class MessagesQuery(Query):
    status: Status | None = None
    limit: int = Field(default=50, ge=1, le=500)
    cursor: str | None = Field(default=None, max_length=500, description=CURSOR_RULE)


def _validate(model: type[Any], raw: dict[str, Any]) -> Any:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise ValidationFailed(validation_errors(exc)) from exc


def _multipart() -> tuple[CampaignIn, Any]:
    """The form fields as a CampaignIn, and the uploaded CSV file."""
    raw: dict[str, Any] = dict(request.form.items())
    refuse_unstorable(raw)
    if "data" in raw:
        try:
            raw["data"] = json.loads(raw["data"])
        except ValueError as exc:
            raise ValidationFailed([FieldError("/data", f"not JSON: {exc}")]) from exc
        refuse_unstorable(raw["data"], "/data")
    upload = request.files.get("file")
    spec = _validate(CampaignIn, raw)
    if upload is None or not upload.filename:
        raise ValidationFailed([FieldError("/file", "attach the recipient list as a CSV file named 'file'")])
    return spec, upload


@bp.post("")
@doc(
    json=CampaignIn,
    form=CampaignUpload,
    resp=Answers(HTTP_201=(Campaign, "The draft and its report"), **problems(400, 401, 403, 413, 415, 422)),
    security=SECURITY,
)
@requires("campaigns")
def create() -> tuple[dict[str, Any], int]:
    """Create a campaign as a draft and get its validation report

    JSON with inline `recipients` or a `filter` over stored recipients, or multipart/form-data
    with a CSV `file` (header row: `phone`, `email`, `name`, `locale` and template values; UTF-8,
    UTF-8 with BOM or CP949) and the other fields as form fields (`data` as a JSON string). Up to
    1,000,000 rows and NOTIFIER_MAX_UPLOAD_BYTES. Nothing is sent until the campaign is started.
    """
    ctx = context()
    if request.mimetype == MULTIPART:
        request.max_content_length = ctx.settings.max_upload_bytes
        spec, upload = _multipart()
        return campaigns.create_campaign(ctx, g.owner, spec, upload.stream, _actor()), 201
    if not request.is_json:
        raise UnsupportedMediaType("send JSON, or multipart/form-data with a CSV file")
    spec, _ = parse_json(CampaignIn)
    return campaigns.create_campaign(ctx, g.owner, spec, actor=_actor()), 201


@bp.get("")
@doc(
    query=CampaignsQuery,
    resp=Answers(HTTP_200=(CampaignList, "One page"), **problems(401, 403, 422)),
    security=SECURITY,
)
@requires("campaigns")
def index() -> dict[str, Any]:
    """The key owner's campaigns, newest first, a page at a time"""
    query = _validate(CampaignsQuery, request.args.to_dict())
    return campaigns.list_campaigns(context(), g.owner, limit=query.limit, cursor=query.cursor)


@bp.get("/<campaign_id>")
@doc(resp=Answers(HTTP_200=(Campaign, "The campaign"), **problems(401, 403, 404)), security=SECURITY)
@requires("campaigns")
def show(campaign_id: str) -> dict[str, Any]:
    """A campaign: status, message counts by status, progress and report"""
    return campaigns.get_campaign(context(), g.owner, campaign_id)


@bp.get("/<campaign_id>/messages")
@doc(
    query=MessagesQuery,
    resp=Answers(HTTP_200=(MessageList, "One page"), **problems(401, 403, 404, 422)),
    security=SECURITY,
)
@requires("campaigns")
def messages(campaign_id: str) -> dict[str, Any]:
    """The campaign's messages, newest first"""
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
@doc(
    resp=Answers(HTTP_200=(None, "CSV"), content={200: text("text/csv")}, **problems(401, 403, 404)),
    security=SECURITY,
)
@requires("campaigns")
def rejections(campaign_id: str) -> Response:
    """Every rejected row as CSV: row, reason, raw"""
    lines = campaigns.rejections_csv(context(), g.owner, campaign_id)
    return Response(
        stream_with_context(lines),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="campaign-{campaign_id}-rejections.csv"'},
    )


@bp.post("/<campaign_id>/test")
@doc(
    json=SendTestIn,
    resp=Answers(
        HTTP_202=(CampaignTestSend, "The test messages"), **problems(400, 401, 403, 404, 409, 415, 422)
    ),
    security=SECURITY,
)
@requires("campaigns")
def test(campaign_id: str) -> tuple[dict[str, Any], int]:
    """Send the message, as the first recipient would get it, to these addresses now

    Transactional lane, the campaign's category (so the (광고) markings show), reference
    `campaign-test:{id}`.
    """
    body, _ = parse_json(SendTestIn)
    return send_test(context(), g.owner, campaign_id, phone=body.phone, email=body.email), 202


@bp.post("/<campaign_id>/start")
@doc(
    json=StartIn,
    resp=Answers(HTTP_200=(Campaign, "Running or scheduled"), **problems(400, 401, 403, 404, 409, 415, 422)),
    security=SECURITY,
)
@requires("campaigns")
def start(campaign_id: str) -> dict[str, Any]:
    """Start a draft now, or at `at` (with a UTC offset); the body may be left out"""
    body = parse_json(StartIn)[0] if request.content_length else StartIn()
    return campaigns.start_campaign(context(), g.owner, campaign_id, body.at, _actor())


@bp.post("/<campaign_id>/cancel")
@doc(resp=Answers(HTTP_200=(Campaign, "Cancelled"), **problems(401, 403, 404, 409)), security=SECURITY)
@requires("campaigns")
def cancel(campaign_id: str) -> dict[str, Any]:
    """Cancel: messages not yet handed to a worker are cancelled; sent ones stay sent"""
    return campaigns.cancel_campaign(context(), g.owner, campaign_id, _actor())


def _actor() -> Actor:
    """The key of this request, as the audit log names it, and where it called from."""
    return Actor(acting_key(), request.remote_addr)
