"""Campaigns: the list with status and progress, the wizard (upload a CSV -> validation report
-> preview of what a person receives -> test send -> start now or at a time) and the live
progress, over ``notifier.campaigns``.

Rules: a campaign of another centre is a 404 (``staff.scope``); an advertising campaign starts
only after a manager of its centre (or the ministry) approved it, and the approval is an entry
of the audit log, shown on the page. Every action is written to the audit log.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Response, jsonify, request, stream_with_context, url_for
from sqlalchemy.engine import RowMapping

from notifier.api.context import context
from notifier.campaigns import by_center
from notifier.campaigns import repository as campaign_repo
from notifier.campaigns import service as campaigns
from notifier.campaigns.preview import campaign_preview
from notifier.campaigns.render import ADVERTISING, MAX_TEST_MESSAGES, send_test
from notifier.campaigns.service import CampaignIn
from notifier.console import campaign_forms as forms
from notifier.console.i18n import language, said, word
from notifier.console.labels import label
from notifier.console.pages import FormProblem, not_found, page
from notifier.console.session import acting, audit, current_staff, login_required
from notifier.errors import Conflict, ValidationFailed
from notifier.messages.views import decode_cursor, encode_cursor
from notifier.staff import audit as staff_audit
from notifier.staff.accounts import Role
from notifier.staff.scope import require_center, visible_centers

bp = Blueprint("campaigns", __name__)
PAGE = 30
REJECTIONS_SHOWN = 1000
APPROVED = "campaign_approved"


@bp.url_value_preprocessor
def _upload_limit(endpoint: str | None, values: dict[str, Any] | None) -> None:
    # Runs before the console's CSRF check reads the form: only the upload may be large.
    if endpoint == "console.campaigns.create":
        request.max_content_length = context().settings.max_upload_bytes


def _campaign(campaign_id: str, *, lock: bool = False) -> RowMapping:
    """The campaign if the signed-in account may see it; else a 404 (also for another centre's)."""
    with context().engine.connect() as conn:
        row = campaign_repo.find(conn, campaign_id[:36])
    if row is None:
        raise not_found()
    require_center(current_staff(), by_center.center_of(row))
    return row


def _approvals(campaign_id: str) -> list[staff_audit.AuditEntry]:
    with context().engine.connect() as conn:
        return staff_audit.entries_for(conn, "campaign", campaign_id, APPROVED)


@bp.get("/campaigns")
@login_required
def index() -> Response:
    cursor = request.args.get("cursor", "")
    try:
        after = decode_cursor(cursor) if cursor else None
    except Exception as exc:  # a hand-edited cursor
        raise FormProblem(422, said("잘못된 페이지 위치입니다.", "The page link is not valid.")) from exc
    with context().engine.connect() as conn:
        items, more = by_center.page(conn, visible_centers(current_staff()), limit=PAGE, after=after)
    next_cursor = None
    if more and items:
        last = items[-1]
        next_cursor = encode_cursor(datetime.fromisoformat(last["created_at"]), last["id"])
    return page("console/campaigns.html", items=items, next_cursor=next_cursor)


@bp.get("/campaigns/new")
@login_required
def new() -> Response:
    return page("console/campaign_new.html", **forms.choices(current_staff()))


@bp.post("/campaigns")
@login_required
def create() -> Response:
    staff = current_staff()
    spec, upload = forms.campaign_form(staff, request.form, request.files)
    try:
        view = campaigns.create_campaign(
            context(), context().settings.console_owner, CampaignIn.model_validate(spec), upload, acting()
        )
    except ValidationFailed as exc:  # e.g. not a CSV file, or no usable header row
        details = [(e.pointer.lstrip("/") or word("recipient_file"), e.detail) for e in exc.errors]
        raise FormProblem(422, word("campaign_refused"), details) from exc
    return _redirect(view["id"])


def _redirect(campaign_id: str, **args: Any) -> Response:
    target = url_for("console.campaigns.show", campaign_id=campaign_id, **args)
    return Response(status=303, headers={"Location": target})


@bp.get("/campaigns/<campaign_id>")
@login_required
def show(campaign_id: str) -> Response:
    row = _campaign(campaign_id)
    ctx = context()
    view = campaigns.get_campaign(ctx, None, row["id"])
    with ctx.engine.connect() as conn:
        rejected = campaign_repo.rejections_after(conn, row["id"], -1, REJECTIONS_SHOWN)
    staff = current_staff()
    return page(
        "console/campaign.html",
        campaign=view,
        rejected=rejected,
        previews=campaign_preview(ctx, row) if view["status"] == "draft" else [],
        approvals=_approvals(row["id"]),
        may_approve=staff.role in (Role.MANAGER, Role.MINISTRY),
        notice=word("test_sent") if request.args.get("tested") else None,
        staff_email=staff.email,
    )


@bp.get("/campaigns/<campaign_id>/progress.json")
@login_required
def progress(campaign_id: str) -> Response:
    row = _campaign(campaign_id)
    view = campaigns.get_campaign(context(), None, row["id"])
    lang = language()
    answer = jsonify(
        status=view["status"],
        status_label=label("campaign_status", view["status"], lang),
        counts=view["counts"],
        count_labels={status: label("message_status", status, lang) for status in view["counts"]},
        progress=view["progress"],
    )
    answer.headers["Cache-Control"] = "no-store"
    return answer


@bp.get("/campaigns/<campaign_id>/rejections.csv")
@login_required
def rejections(campaign_id: str) -> Response:
    row = _campaign(campaign_id)
    lines = campaigns.rejections_csv(context(), row["owner"], row["id"])
    return Response(
        stream_with_context(lines),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="campaign-{row["id"]}-rejections.csv"'},
    )


@bp.post("/campaigns/<campaign_id>/test")
@login_required
def test(campaign_id: str) -> Response:
    row = _campaign(campaign_id)
    phone, email = forms.test_addresses(request.form)
    try:
        sent = send_test(context(), row["owner"], row["id"], phone=phone, email=email)
    except ValidationFailed as exc:  # the addresses were checked: the template lacks the channel
        fields = {"/phone": word("test_phone"), "/email": word("test_email")}
        nothing = said(
            "캠페인의 템플릿에 이 채널로 보낼 내용이 없습니다.",
            "The campaign's template has nothing to send on this channel.",
        )
        details = [(fields.get(e.pointer, word("template")), nothing) for e in exc.errors]
        raise FormProblem(
            422, said("테스트를 보낼 수 없습니다.", "The test cannot be sent."), details
        ) from exc
    except Conflict as exc:  # its test messages are used up
        enough = said(
            f"이 캠페인은 테스트 메시지를 이미 {MAX_TEST_MESSAGES}건까지 보냈습니다.",
            f"This campaign has already sent its {MAX_TEST_MESSAGES} test messages.",
        )
        raise FormProblem(409, enough) from exc
    with context().engine.begin() as conn:
        audit(
            conn,
            "campaign_test_sent",
            "campaign",
            row["id"],
            center_code=by_center.center_of(row),
            detail=" ".join(filter(None, (phone, email))) + f" messages={len(sent['items'])}",
        )
    return _redirect(row["id"], tested=1)


@bp.post("/campaigns/<campaign_id>/approve")
@login_required
def approve(campaign_id: str) -> Response:
    row = _campaign(campaign_id)
    if current_staff().role not in (Role.MANAGER, Role.MINISTRY):
        only = said(
            "광고성 캠페인은 센터 관리자만 승인할 수 있습니다.",
            "Only a centre manager can approve an advertising campaign.",
        )
        raise FormProblem(403, only)
    if row["category"] != ADVERTISING or row["status"] != "draft":
        only = said(
            "승인할 수 있는 것은 작성 중인 광고성 캠페인뿐입니다.",
            "Only a draft advertising campaign can be approved.",
        )
        raise FormProblem(409, only)
    with context().engine.begin() as conn:
        audit(
            conn,
            APPROVED,
            "campaign",
            row["id"],
            center_code=by_center.center_of(row),
            detail=row["name"][:100],
        )
    return _redirect(row["id"])


@bp.post("/campaigns/<campaign_id>/start")
@login_required
def start(campaign_id: str) -> Response:
    row = _campaign(campaign_id)
    at = forms.start_time(request.form, context().settings.timezone, context().clock())
    if row["category"] == ADVERTISING and not _approvals(row["id"]):
        raise FormProblem(409, word("needs_approval"))
    try:
        campaigns.start_campaign(context(), None, row["id"], at, acting())
    except Conflict as exc:  # started or cancelled meanwhile, or nobody to send to
        only = said(
            "작성 중이고 보낼 사람이 있는 캠페인만 시작할 수 있습니다.",
            "Only a draft campaign with people to send to can be started.",
        )
        raise FormProblem(409, only, [(word("status"), exc.detail)]) from exc
    return _redirect(row["id"])


@bp.post("/campaigns/<campaign_id>/cancel")
@login_required
def cancel(campaign_id: str) -> Response:
    row = _campaign(campaign_id)
    try:
        campaigns.cancel_campaign(context(), None, row["id"], acting())
    except Conflict as exc:  # already finished or cancelled
        ended = said(
            "이미 끝났거나 취소된 캠페인입니다.", "The campaign has already finished or was cancelled."
        )
        raise FormProblem(409, ended, [(word("status"), exc.detail)]) from exc
    return _redirect(row["id"])
