"""The campaign wizard's forms: what each may hold, and the problem page for each bad field.

Every check runs before anything is stored, so a refused form changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import IO, Any
from zoneinfo import ZoneInfo

from email_validator import EmailNotValidError, validate_email
from werkzeug.datastructures import FileStorage, ImmutableMultiDict, MultiDict

from notifier.api.context import context
from notifier.centers import service as centers
from notifier.console.i18n import said, word
from notifier.console.pages import FormProblem
from notifier.domain.phones import parse_phone, require_mobile
from notifier.domain.templates import ANNOUNCEMENT
from notifier.errors import ValidationFailed
from notifier.staff.accounts import StaffAccount
from notifier.staff.scope import may_see
from notifier.templates import ownership
from notifier.templates import repository as template_repo

CATEGORIES = ("informational", "advertising")
CHANNELS = ("auto", "sms", "email")
MAX_NAME = 200
MAX_NUMBER = 32
SOURCES = ("csv", "stored")
MAX_TAGS = 20
MAX_TAG = 50


def visible_template_keys(staff: StaffAccount) -> list[str]:
    """The templates ``staff`` may use (shipped, their centres', ministry: all), announcements first."""
    with context().engine.connect() as conn:
        authors = ownership.first_authors(conn)
        current = template_repo.listing(conn)
    # Announcements first: a campaign is rarely an appointment notice.
    ordered = sorted(current, key=lambda v: (v.spec.purpose != ANNOUNCEMENT, v.key))
    return [v.key for v in ordered if template_visible(staff, authors.get(v.key, ""))]


def template_visible(staff: StaffAccount, first_author: str) -> bool:
    return ownership.is_shipped(first_author) or may_see(staff, ownership.center_of(first_author))


def center_choices(staff: StaffAccount) -> list[tuple[str, str]]:
    """(code, name) of the centres ``staff`` may send for."""
    return [(c.code, c.name) for c in centers.listing(context()) if may_see(staff, c.code)]


def choices(staff: StaffAccount) -> dict[str, Any]:
    return {
        "templates": visible_template_keys(staff),
        "centers": center_choices(staff),
        "categories": CATEGORIES,
        "channels": CHANNELS,
    }


def campaign_form(
    staff: StaffAccount, form: ImmutableMultiDict[str, str] | MultiDict[str, str], files: Any
) -> tuple[dict[str, Any], IO[bytes] | None]:
    """The campaign the wizard's first form asks for (as CampaignIn's fields) and its CSV file
    (None when it goes to stored recipients chosen by centre and tags)."""
    problems: list[tuple[str, str]] = []
    name = form.get("name", "").strip()
    if not name or len(name) > MAX_NAME:
        length = said(f"1자 이상 {MAX_NAME}자 이하로 입력하세요.", f"Enter 1 to {MAX_NAME} characters.")
        problems.append((word("campaign_name"), length))
    template = form.get("template", "")
    if template not in visible_template_keys(staff):
        problems.append(
            (word("template"), said("목록에서 템플릿을 고르세요.", "Choose a template from the list."))
        )
    category = form.get("category", "")
    if category not in CATEGORIES:
        problems.append(
            (word("category"), said("정보성 또는 광고성을 고르세요.", "Choose informational or advertising."))
        )
    channel = form.get("channel", "auto")
    if channel not in CHANNELS:
        problems.append(
            (word("channel"), said("자동, sms 또는 email을 고르세요.", "Choose automatic, sms or email."))
        )
    center = form.get("center", "")
    if center not in {code for code, _ in center_choices(staff)}:
        problems.append((word("center"), said("목록에서 센터를 고르세요.", "Choose a centre from the list.")))
    number = form.get("opt_out_number", "").strip()[:MAX_NUMBER] or None
    if category == "advertising" and channel != "email" and not number:
        needed = said(
            "광고성 문자에는 무료수신거부 080 번호가 필요합니다.",
            "An advertising SMS needs a free 080 opt-out number.",
        )
        problems.append((word("opt_out_number"), needed))
    source = form.get("source", "csv")
    upload: FileStorage | None = files.get("file")
    tags = [t.strip() for t in form.get("tags", "").split(",") if t.strip()]
    if source not in SOURCES:
        pick = said("CSV 파일 또는 저장된 받는 사람을 고르세요.", "Choose a CSV file or stored recipients.")
        problems.append((word("recipient"), pick))
    elif source == "csv" and (upload is None or not upload.filename):
        problems.append((word("recipient_file"), said("CSV 파일을 첨부하세요.", "Attach a CSV file.")))
    elif source == "stored" and (len(tags) > MAX_TAGS or any(len(t) > MAX_TAG for t in tags)):
        limits = said(
            f"태그는 {MAX_TAGS}개까지, 각 {MAX_TAG}자 이하입니다.",
            f"Up to {MAX_TAGS} tags, each at most {MAX_TAG} characters.",
        )
        problems.append((said("태그", "Tags"), limits))
    if problems:
        raise FormProblem(422, word("campaign_refused"), problems)
    spec: dict[str, Any] = {
        "name": name,
        "template": template,
        "category": category,
        "channel": channel,
        "center": center,
        "opt_out_number": number,
    }
    if source == "stored":  # the console owner's stored recipients of the centre with every tag
        spec["filter"] = {"center": center, "tags": tags}
        return spec, None
    assert upload is not None
    return spec, upload.stream


def test_addresses(form: ImmutableMultiDict[str, str]) -> tuple[str | None, str | None]:
    """The mobile number and email a test goes to, as typed; a 422 page names each one that is not."""
    phone = form.get("phone", "").strip()[:64] or None
    email = form.get("email", "").strip()[:320] or None
    if not phone and not email:
        empty = said("비어 있습니다.", "Empty.")
        raise FormProblem(
            422,
            said(
                "테스트를 받을 휴대전화 번호나 이메일을 입력하세요.",
                "Enter a mobile number or an email for the test.",
            ),
            [(word("test_phone"), empty), (word("test_email"), empty)],
        )
    problems: list[tuple[str, str]] = []
    if phone is not None:
        wrong = _phone_problem(phone)
        if wrong:
            problems.append((word("test_phone"), wrong))
    if email is not None:
        try:
            validate_email(email, check_deliverability=False)
        except EmailNotValidError:
            problems.append(
                (word("test_email"), said("이메일 주소의 형식이 아닙니다.", "This is not an email address."))
            )
    if problems:
        raise FormProblem(422, said("테스트를 보낼 수 없습니다.", "The test cannot be sent."), problems)
    return phone, email


def _phone_problem(phone: str) -> str | None:
    """What is wrong with ``phone`` as a number to text a test to, if anything."""
    try:
        number = parse_phone(phone)
    except ValidationFailed:
        return said("휴대전화 번호의 형식이 아닙니다.", "This is not a mobile number.")
    try:
        require_mobile(number)
    except ValidationFailed:
        return said(
            "문자를 받을 수 있는 휴대전화 번호가 아닙니다.", "This number cannot receive text messages."
        )
    return None


def start_time(form: ImmutableMultiDict[str, str], zone: ZoneInfo, now: datetime) -> datetime | None:
    """The start time the form asks for (local time of the service's zone); None: now."""
    raw = form.get("at", "").strip()
    if not raw:
        return None
    shown = [(said("예약 시각", "Start time"), raw[:32])]
    bad_format = said("시각은 YYYY-MM-DDTHH:MM 형식이어야 합니다.", "Times are written YYYY-MM-DDTHH:MM.")
    try:
        local = datetime.fromisoformat(raw[:32])
    except ValueError as exc:
        raise FormProblem(422, bad_format, shown) from exc
    if local.tzinfo is not None:
        raise FormProblem(422, bad_format, shown)
    at = local.replace(tzinfo=zone)
    if at <= now:
        raise FormProblem(
            422, said("예약 시각은 지금보다 뒤여야 합니다.", "The start time must be in the future."), shown
        )
    return at
