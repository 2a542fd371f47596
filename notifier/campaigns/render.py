"""Render one campaign message: the template, the recipient's values and, for advertising, the
legal markings (정보통신망법 제50조) with the campaign's free 080 opt-out number.

Every campaign email carries a one-click unsubscribe link, in its body and in the RFC 8058
headers: an advertising one opts out of advertising, an informational one of every campaign
message (scope ``all``, the only scope that covers it; ``consent.coverage``).

Used in three places that must agree: the upload's size estimate, the test send, and the bulk
worker that renders each message as it claims it (``render_claimed``, a ``claims.Render``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Connection

from notifier.campaigns import repository as campaign_repo
from notifier.config import TRANSACTIONAL_QUEUE
from notifier.consent.opt_out_links import list_unsubscribe_headers, opt_out_url, sample_opt_out_url
from notifier.context import Context
from notifier.domain.message_status import Status
from notifier.domain.phones import format_phone_kr, parse_phone, require_mobile
from notifier.domain.templates import ANNOUNCEMENT, TemplateVersion
from notifier.errors import Conflict, FieldError, InvalidPhoneNumber, NotFound, ValidationFailed
from notifier.messages import repository as repo
from notifier.messages.accept import Recipient, center_zone, new_message_row, template_context
from notifier.messages.claims import Rejection
from notifier.messages.publisher import publish
from notifier.messages.views import Message, message_model
from notifier.responses import ResponseModel
from notifier.templates import repository as template_repo
from notifier.templates.rendering import RUNTIME_ERRORS as TEMPLATE_RUNTIME_ERRORS
from notifier.templates.rendering import Advertising, RenderedMessage

log = logging.getLogger("notifier.campaigns")

ADVERTISING = "advertising"
HEADERS_KEY = "_headers"  # row data read by services.messages.email_for
RENDER_ERROR = "render_error"
# A test goes to addresses the client names, past consent and opt-outs: enough to check the
# message on each channel a few times, too few to send the announcement itself this way.
MAX_TEST_MESSAGES = 10
# Everything a template can fail with while rendering with one recipient's values.
RENDER_ERRORS = (ValidationFailed, *TEMPLATE_RUNTIME_ERRORS)
_CACHE_LIMIT = 256


@dataclass(frozen=True)
class CampaignInfo:
    """What a worker needs to know about a campaign, fixed when the campaign is created."""

    id: str
    owner: str
    category: str
    opt_out_number: str | None
    rate_per_second: float | None


def opt_out_line(number: str, url: str | None) -> str:
    """The SMS footer: '무료수신거부 080-123-4567' and the one-click link."""
    line = f"무료수신거부 {format_phone_kr(number)}"
    return f"{line} {url}" if url else line


def render_for(
    ctx: Context,
    version: TemplateVersion,
    *,
    owner: str,
    category: str,
    opt_out_number: str | None,
    center: dict[str, str],
    channel: str,
    recipient: Recipient,
    data: dict[str, Any],
    conn: Connection | None = None,
    estimate: bool = False,
) -> tuple[RenderedMessage, dict[str, str] | None]:
    """Render for one recipient; returns the message and, for email, its unsubscribe headers.

    The opt-out link is stored on ``conn`` (or in its own transaction); an ``estimate`` stores
    nothing and uses a link of the same length.
    """
    marking = None
    unsubscribe = None
    headers = None
    if category == ADVERTISING or channel == "email":
        address = recipient.phone if channel == "sms" else recipient.email
        scope = ADVERTISING if category == ADVERTISING else "all"
        url = (
            sample_opt_out_url(ctx)
            if estimate
            else opt_out_url(ctx, owner, channel, address or "", scope, center=center, conn=conn)
        )
        if channel == "email":
            headers = list_unsubscribe_headers(url)
            unsubscribe = url
    if category == ADVERTISING:
        if channel == "sms" and not opt_out_number:
            raise ValueError("an advertising SMS needs the campaign's free 080 opt-out number")
        # The free 080 number is how an SMS is refused (정보통신망법 제50조); an email carries
        # its one-click link instead, and needs no number.
        line = opt_out_line(opt_out_number or "", url) if channel == "sms" else ""
        marking = Advertising(line, url)
    values = {k: v for k, v in data.items() if k != HEADERS_KEY}
    context = template_context(center, recipient, values, center_zone(ctx, center))
    rendered = ctx.renderer.render(version, channel, recipient.locale, context, marking, unsubscribe)
    return rendered, headers


def _cache(ctx: Context, name: str) -> dict[Any, Any]:
    cache = ctx.memo.setdefault(name, {})
    if len(cache) > _CACHE_LIMIT:
        cache.clear()
    return cache


def campaign_info(ctx: Context, campaign_id: str, conn: Connection | None = None) -> CampaignInfo | None:
    """The campaign's fixed details, cached for the life of the process (read on ``conn`` if given)."""
    cache = _cache(ctx, "campaign_info")
    if campaign_id not in cache:
        with _reading(ctx, conn) as reader:
            row = campaign_repo.find(reader, campaign_id)
        if row is None:
            return None
        cache[campaign_id] = CampaignInfo(
            row["id"], row["owner"], row["category"], row["opt_out_number"], row["rate_per_second"]
        )
    info: CampaignInfo = cache[campaign_id]
    return info


def template_version(
    ctx: Context, key: str, version: int, conn: Connection | None = None
) -> TemplateVersion | None:
    """A stored template version (immutable, so cached for the life of the process)."""
    cache = _cache(ctx, "template_versions")
    if (key, version) not in cache:
        with _reading(ctx, conn) as reader:
            found = template_repo.get(reader, key, version)
        if found is None:
            return None
        cache[key, version] = found
    found_version: TemplateVersion = cache[key, version]
    return found_version


def _reading(ctx: Context, conn: Connection | None) -> AbstractContextManager[Connection]:
    """``conn`` if the caller has one (a worker must not hold two pooled connections), else a new one."""
    return nullcontext(conn) if conn is not None else ctx.engine.connect()


def render_claimed(
    ctx: Context, conn: Connection, rows: Sequence[Mapping[str, Any]]
) -> dict[str, dict[str, Any] | Rejection]:
    """Render campaign messages being claimed: for each, the content to store, or why it fails.

    The claim stores the content before anything is sent, so a retry sends exactly the same
    text. A message that cannot be rendered fails alone, with ``render_error``.
    """
    rendered: dict[str, dict[str, Any] | Rejection] = {}
    for row in rows:
        try:
            rendered[row["id"]] = _content(ctx, conn, row)
        except RENDER_ERRORS as exc:
            detail = exc.detail if isinstance(exc, ValidationFailed) else str(exc)
            log.warning("campaign message could not be rendered", extra={"message_id": row["id"]})
            rendered[row["id"]] = Rejection(
                Status.FAILED,
                f"{RENDER_ERROR}: {detail}",
                {"error_code": RENDER_ERROR, "error_reason": detail[:1000]},
            )
    return rendered


def _content(ctx: Context, conn: Connection, row: Mapping[str, Any]) -> dict[str, Any]:
    """The columns of a rendered campaign message."""
    info = campaign_info(ctx, row["campaign_id"], conn) if row["campaign_id"] else None
    version = template_version(ctx, row["template_key"], row["template_version"], conn)
    if version is None:
        raise ValueError(f"template {row['template_key']} v{row['template_version']} is gone")
    rendered, headers = render_for(
        ctx,
        version,
        owner=row["owner"],
        category=row["category"],
        opt_out_number=info.opt_out_number if info else None,
        center=dict(row["center"] or {}),
        channel=row["channel"],
        recipient=Recipient(row["to_phone"], row["to_email"], row["to_name"], row["locale"]),
        data=dict(row["data"] or {}),
        conn=conn,
    )
    content: dict[str, Any] = {
        "subject": rendered.subject,
        "body": rendered.body,
        "html": rendered.html,
        "segments": rendered.sms.segments if rendered.sms else None,
        "kr_class": rendered.sms.kr_class.value if rendered.sms and rendered.sms.kr_class else None,
    }
    if row["channel"] == "email":
        # The default sender is this worker's (the server's), not that of the process that made
        # the message: `notifier campaign start` fans out from an admin's shell and environment.
        content["sender"] = (row["center"] or {}).get("email_sender") or ctx.settings.mail_from
    if headers:
        content["data"] = {**(row["data"] or {}), HEADERS_KEY: headers}
    return content


# ---- test send ------------------------------------------------------------------------


class CampaignTestSend(ResponseModel):
    """The test messages, one per address."""

    items: list[Message]


def send_test(
    ctx: Context, owner: str, campaign_id: str, *, phone: str | None, email: str | None
) -> dict[str, Any]:
    """Send the campaign's message, as its first recipient would get it, to the given addresses now."""
    now = ctx.clock()
    with ctx.engine.connect() as conn:
        campaign = campaign_repo.find(conn, campaign_id)
        if campaign is None or campaign["owner"] != owner:
            raise NotFound(f"no campaign {campaign_id}")
        version = template_repo.get(conn, campaign["template_key"], campaign["template_version"])
        sample = campaign_repo.first_recipient(conn, campaign_id)
    targets: list[tuple[str, Recipient, str]] = []
    errors: list[FieldError] = []
    if phone:
        try:
            phone = require_mobile(parse_phone(phone)).e164
            targets.append(("sms", Recipient(phone, None, "", "ko"), "/phone"))
        except InvalidPhoneNumber as exc:
            errors.append(FieldError("/phone", exc.reason))
    if email:
        try:
            email = validate_email(email, check_deliverability=False).normalized
            targets.append(("email", Recipient(None, email, "", "ko"), "/email"))
        except EmailNotValidError as exc:
            errors.append(FieldError("/email", str(exc)))
    if not phone and not email:
        errors.append(FieldError("", "give a phone number, an email address, or both"))
    if errors:
        raise ValidationFailed(errors)
    if version is None:
        raise Conflict("the campaign's template version no longer exists")
    data = {**campaign["data"], **(sample.data if sample else {})}
    reference = f"campaign-test:{campaign_id}"
    rows = []
    for channel, target, pointer in targets:
        name, locale = (sample.name, sample.locale) if sample else ("", "ko")
        recipient = Recipient(target.phone, target.email, name, locale)
        if not version.has_channel(channel, recipient.locale):
            raise ValidationFailed(
                [FieldError(pointer, f"template {version.key!r} has no {channel} variant")]
            )
        rendered, headers = render_for(
            ctx,
            version,
            owner=owner,
            category=campaign["category"],
            opt_out_number=campaign["opt_out_number"],
            center=dict(campaign["center"]),
            channel=channel,
            recipient=recipient,
            data=data,
        )
        rows.append(
            new_message_row(
                ctx,
                owner=owner,
                channel=channel,
                recipient=recipient,
                center=dict(campaign["center"]),
                rendered=rendered,
                template_key=version.key,
                template_version=version.version,
                data={**data, "_headers": headers} if headers else data,
                now=now,
                send_at=now,
                reference=reference,
                purpose=ANNOUNCEMENT,
                category=campaign["category"],
                lane=TRANSACTIONAL_QUEUE,
            )
        )
    with ctx.engine.begin() as conn:
        campaign_repo.find(conn, campaign_id, lock=True)  # two test sends at once count in turn
        sent = repo.count_with_reference(conn, owner, reference)
        if sent + len(rows) > MAX_TEST_MESSAGES:
            raise Conflict(
                f"a campaign sends at most {MAX_TEST_MESSAGES} test messages and this one has sent {sent}"
            )
        repo.insert_many(conn, rows, now)
    publish(ctx, TRANSACTIONAL_QUEUE, [r["id"] for r in rows])
    return CampaignTestSend(items=[message_model(r) for r in rows]).dump()
