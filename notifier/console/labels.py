"""The console's one place for the words of internal codes: statuses, channels, kinds, roles,
audit actions, reasons; and the names of centres and templates shown instead of their keys.

Templates call ``label(kind, code)`` (``page()`` hands it over in the page's language); an
unknown code is shown as itself. The tables reuse what other modules already say in both
languages (appointment kinds, roles, campaign statuses) rather than holding second copies.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from flask import g

from notifier.api.context import context
from notifier.appointments.notices import KIND_LABELS
from notifier.campaigns.fanout import NIGHT_HOLD, QUIET_HOLD
from notifier.centers import service as centers_service
from notifier.consent.opt_outs import SCOPE_LABELS
from notifier.console.work_words import WORK_WORDS
from notifier.domain.phones import mask_personal_data, mask_phone
from notifier.messages.accept import URGENT
from notifier.staff.accounts import ROLE_LABELS
from notifier.templates import repository as template_repo

Table = Mapping[str, tuple[str, str]]  # code -> (Korean, English)
_Say = Callable[[re.Match[str]], tuple[str, str]]  # what a matched note or reason says: (Korean, English)

MESSAGE_STATUS: Table = {
    "scheduled": ("예약됨", "Scheduled"),
    "queued": ("대기 중", "Queued"),
    "sending": ("보내는 중", "Sending"),
    "sent": ("발송됨", "Sent"),
    "delivered": ("전달됨", "Delivered"),
    "failed": ("실패", "Failed"),
    "suppressed": ("발송 차단", "Suppressed"),
    "cancelled": ("취소됨", "Cancelled"),
    "expired": ("만료", "Expired"),
}
CHANNEL: Table = {
    "sms": ("문자", "SMS"),
    "email": ("이메일", "Email"),
    "kakao": ("알림톡", "KakaoTalk AlimTalk"),
    "auto": WORK_WORDS["channel_auto"],
}
CAMPAIGN_STATUS: Table = {
    code: WORK_WORDS[f"status_{code}"] for code in ("draft", "scheduled", "running", "finished", "cancelled")
}
APPOINTMENT_KIND: Table = {
    code: (words["ko"], words["en"][:1].upper() + words["en"][1:]) for code, words in KIND_LABELS.items()
}
APPOINTMENT_STATUS: Table = {
    "booked": ("예약됨", "Booked"),
    "cancelled": ("취소됨", "Cancelled"),
}
PURPOSE: Table = {
    "confirmation": ("확인 안내", "Confirmation"),
    "reminder": ("미리 알림", "Reminder"),
    "change": ("변경 안내", "Change notice"),
    "cancellation": ("취소 안내", "Cancellation notice"),
    "announcement": ("안내", "Announcement"),
    "opt_out_confirmation": ("수신거부 완료 안내", "Opt-out confirmation"),
}
REMINDER_OUTCOME: Table = {
    "scheduled": ("예약됨", "Scheduled"),
    "moved_for_quiet_hours": ("야간 발송 제한으로 시각 조정", "Moved out of quiet hours"),
    "dropped_past": ("시각이 지나 보내지 않음", "Not sent: its time had passed"),
    "dropped_quiet_hours": ("야간 발송 제한으로 보내지 않음", "Not sent: quiet hours"),
    "dropped_too_close": ("확인 안내 직후라 보내지 않음", "Not sent: right after the confirmation"),
}
ROLE: Table = {role.value: (words["ko"], words["en"]) for role, words in ROLE_LABELS.items()}
AUDIT_ACTION: Table = {
    "signed_in": ("로그인", "Signed in"),
    "signed_out": ("로그아웃", "Signed out"),
    "password_set": ("비밀번호 설정", "Password set"),
    "reset_link_issued": ("비밀번호 설정 링크 발급", "Password link issued"),
    "staff_created": ("직원 계정 생성", "Staff account created"),
    "api_key_created": ("API 키 생성", "API key created"),
    "api_key_revoked": ("API 키 폐기", "API key revoked"),
    "opt_out_added": ("수신거부 등록", "Opt-out recorded"),
    "campaign_created": ("캠페인 생성", "Campaign created"),
    "campaign_test_sent": ("캠페인 테스트 발송", "Campaign test sent"),
    "campaign_approved": ("캠페인 승인", "Campaign approved"),
    "campaign_started": ("캠페인 시작", "Campaign started"),
    "campaign_cancelled": ("캠페인 취소", "Campaign cancelled"),
    "template_saved": ("템플릿 저장", "Template saved"),
    "template_restored": ("템플릿 이전 버전 복원", "Template version restored"),
    "experiment_started": ("알림 계획 실험 시작", "Experiment started"),
    "experiment_stopped": ("알림 계획 실험 중지", "Experiment stopped"),
    "outcome_recorded": ("참석 결과 기록", "Attendance outcome recorded"),
}
AUDIT_OBJECT: Table = {
    "staff": ("직원 계정", "Staff account"),
    "api_key": ("API 키", "API key"),
    "opt_out": ("수신거부", "Opt-out"),
    "campaign": ("캠페인", "Campaign"),
    "template": ("템플릿", "Template"),
    "experiment": ("실험", "Experiment"),
    "appointment": ("예약", "Appointment"),
}
# What a message's history says about a change (``detail`` of its status history).
# How an opt-out reached us (the opt-outs page and history notes).
SOURCE_LABELS = {
    "api": ("API", "API"),
    "unsubscribe_link": ("수신거부 링크", "Unsubscribe link"),
    "sms_reply": ("문자 회신", "SMS reply"),
    "call_center": ("전화", "Phone call"),
    "email_reply": ("이메일 회신", "Email reply"),
    "in_person": ("방문", "In person"),
    "written": ("서면", "In writing"),
}
HISTORY_DETAIL: Table = {
    "due": ("보낼 시각이 됨", "Its time came"),
    URGENT: (
        "긴급: 요청에 따라 야간 발송 제한 중에도 보냄",
        "Urgent: sent in quiet hours, as the client asked",
    ),
    NIGHT_HOLD: (
        "야간 수신 동의가 없어 광고 문자를 오전 8시까지 보류",
        "Held: advertising SMS at night without night-time consent; sent at 08:00 Korea time",
    ),
    QUIET_HOLD: (
        "센터의 야간 발송 제한 시간이라 끝날 때까지 보류",
        "Held: the centre's quiet hours; sent when they end",
    ),
    "campaign cancelled": ("캠페인이 취소됨", "The campaign was cancelled"),
    "appointment no longer exists": (
        "예약이 없어져 보내지 않음",
        "Not sent: the appointment no longer exists",
    ),
    "the appointment has already started": (
        "상담이 이미 시작되어 보내지 않음",
        "Not sent: the appointment had started",
    ),
    "a reminder due now would arrive in quiet hours": (
        "지금 보내면 야간 발송 제한 시간에 도착해 보내지 않음",
        "Not sent: it would arrive in quiet hours",
    ),
    "validity window passed": ("유효 기간이 지나 보내지 않음", "Past its validity window"),
    "the recipient's data was erased": ("받는 사람의 정보가 삭제됨", "The recipient's data was erased"),
    "recovered: the provider had accepted it": (
        "복구: 발송사가 이미 받았음",
        "Recovered: the provider had accepted it",
    ),
    "recovered: the worker died before the provider took it": (
        "복구: 발송사에 넘기기 전에 작업이 중단되어 다시 보냄",
        "Recovered: the worker stopped before the provider took it",
    ),
}

TABLES: dict[str, Table] = {
    "message_status": MESSAGE_STATUS,
    "channel": CHANNEL,
    "campaign_status": CAMPAIGN_STATUS,
    "appointment_kind": APPOINTMENT_KIND,
    "appointment_status": APPOINTMENT_STATUS,
    "purpose": PURPOSE,
    "reminder_outcome": REMINDER_OUTCOME,
    "role": ROLE,
    "audit_action": AUDIT_ACTION,
    "audit_object": AUDIT_OBJECT,
    "history_detail": HISTORY_DETAIL,
}


def label(kind: str, code: object, lang: str) -> str:
    """The words for ``code`` of ``kind`` in ``lang``; an unknown code (or kind) is itself."""
    text = "" if code is None else str(code)
    words = TABLES[kind].get(text)
    if words is None:
        return mask_personal_data(text)
    return words[1] if lang == "en" else words[0]


def _opted_out(match: re.Match[str]) -> tuple[str, str]:
    scope, source = match[1], match[2]
    how = SOURCE_LABELS.get(source, (source, source))
    return (
        f"받는 사람이 수신거부함 ({SCOPE_LABELS['ko'].get(scope, scope)}, {how[0]})",
        f"The recipient opted out ({SCOPE_LABELS['en'].get(scope, scope)}, {how[1]})",
    )


# Notes that carry values: the pattern the service writes, and what it says in each language.
_NOTES: list[tuple[re.Pattern[str], _Say]] = [
    (
        re.compile(r"held for quiet hours \((\d\d:\d\d-\d\d:\d\d) [^)]*\) until (\d{4}-\d\d-\d\d \d\d:\d\d)"),
        lambda m: (
            f"야간 발송 제한({m[1]}) 때문에 {m[2]}까지 보류",
            f"Held for quiet hours ({m[1]}) until {m[2]}",
        ),
    ),
    (
        re.compile(r"appointment changed \(revision (\d+)\)"),
        lambda m: (f"예약이 바뀜 ({m[1]}번째 내용)", f"The appointment changed (revision {m[1]})"),
    ),
    (
        re.compile(r"appointment changed \(now revision (\d+)\)"),
        lambda m: (
            f"예약이 바뀌어 보내지 않음 (지금 {m[1]}번째 내용)",
            f"Not sent: the appointment changed (now revision {m[1]})",
        ),
    ),
    (re.compile(r"recipient opted out \((\w+), via (\w+)\)"), _opted_out),
    (
        re.compile(r"gave up after (\d+) attempts"),
        lambda m: (f"{m[1]}번 시도한 뒤 그만둠", f"Gave up after {m[1]} attempts"),
    ),
]


def history_detail(detail: str | None, lang: str) -> str:
    """A message history entry's note in ``lang``: known notes in words, any other masked as it is."""
    text = detail or ""
    if text in HISTORY_DETAIL:
        return label("history_detail", text, lang)
    for pattern, say in _NOTES:
        match = pattern.fullmatch(text)
        if match:
            ko, en = say(match)
            return en if lang == "en" else ko
    return mask_personal_data(text)


# ---- campaign rejection reasons ---------------------------------------------------------


def _lines_ko(lines: str) -> str:
    """'line 3' -> '3번째 줄', 'lines 3-5' -> '3-5번째 줄'."""
    return f"{lines.split(' ', 1)[1]}번째 줄"


def _phone(match: re.Match[str]) -> str:
    return mask_phone(match.group("number"))


# Why ``domain.phones`` refuses a number, in Korean.
_PHONE_WHY = {
    "phone number is empty": "번호가 비어 있습니다",
    "too short to be a phone number": "전화번호라기에는 너무 짧습니다",
    "too long to be a phone number": "전화번호라기에는 너무 깁니다",
    "not a phone number": "전화번호가 아닙니다",
    "unknown country calling code": "알 수 없는 국가 번호입니다",
    "not a current mobile number: 010 numbers have 8 digits after 010": (
        "010 번호는 010 뒤에 8자리여야 합니다"
    ),
}
# One pattern per reason ``campaigns.upload`` and ``campaigns.lists`` give (in English, as the
# API and the CSV download say them); each says it in Korean and English, numbers masked.
_REASONS: list[tuple[re.Pattern[str], _Say]] = [
    (
        re.compile(r"phone: (?P<number>.+) is not a mobile number; SMS needs one"),
        lambda m: (
            f"휴대전화: {_phone(m)} 번호는 휴대전화 번호가 아니어서 문자를 받을 수 없습니다",
            f"phone: {_phone(m)} is not a mobile number; SMS needs one",
        ),
    ),
    (
        re.compile(r"phone: (?P<why>.+)"),
        lambda m: (
            f"휴대전화: {_PHONE_WHY.get(m['why'], '올바른 전화번호가 아닙니다')}",
            mask_personal_data(m[0]),
        ),
    ),
    (
        re.compile(r"email: .*"),
        lambda m: ("이메일: 올바른 이메일 주소가 아닙니다", mask_personal_data(m[0])),
    ),
    (
        re.compile(r"name: longer than (?P<n>\d+) characters"),
        lambda m: (f"이름: {m['n']}자보다 깁니다", f"name: longer than {m['n']} characters"),
    ),
    (
        re.compile(r"locale: .* is not a language code such as ko or en"),
        lambda m: (
            "언어: ko, en 같은 언어 코드가 아닙니다",
            "locale: not a language code such as ko or en",
        ),
    ),
    (
        re.compile(r"no mobile number"),
        lambda m: ("휴대전화 번호가 없습니다", "no mobile number"),
    ),
    (
        re.compile(r"no email address"),
        lambda m: ("이메일 주소가 없습니다", "no email address"),
    ),
    (
        re.compile(r"no mobile number or email address"),
        lambda m: ("휴대전화 번호도 이메일 주소도 없습니다", "no mobile number or email address"),
    ),
    (
        re.compile(r"(?P<lines>lines? [\d-]+): contains a NUL character"),
        lambda m: (
            f"{_lines_ko(m['lines'])}: NUL 문자가 들어 있습니다",
            f"{m['lines']}: contains a NUL character",
        ),
    ),
    (
        re.compile(r"(?P<lines>lines? [\d-]+): not valid CSV: (?P<why>.*)"),
        lambda m: (
            f"{_lines_ko(m['lines'])}: CSV 형식이 아닙니다 ({mask_personal_data(m['why'])})",
            mask_personal_data(m[0]),
        ),
    ),
    (
        re.compile(r"the row has (?P<got>\d+) fields but the header names (?P<want>\d+)"),
        lambda m: (
            f"이 줄의 값은 {m['got']}개인데 첫 줄의 항목은 {m['want']}개입니다",
            f"the row has {m['got']} fields but the header names {m['want']}",
        ),
    ),
]
# ``upload.resolve`` joins a row's problems with "; " (a phone's reason may hold one itself).
_PROBLEMS = re.compile(r"; (?=(?:phone|email): )")


def rejection_reason(reason: str, lang: str) -> str:
    """Why a campaign row was rejected, in ``lang``; an unknown reason as stored, masked."""
    said = []
    for part in _PROBLEMS.split(reason):
        for pattern, say in _REASONS:
            match = pattern.fullmatch(part)
            if match:
                ko, en = say(match)
                said.append(en if lang == "en" else ko)
                break
        else:
            said.append(mask_personal_data(part))
    return "; ".join(said)


# ---- centres and templates ----------------------------------------------------------------


def center_names() -> dict[str, str]:
    """Each centre's name by its code (read once per request)."""
    if "center_names" not in g:
        g.center_names = {center.code: center.name for center in centers_service.listing(context())}
    names: dict[str, str] = g.center_names
    return names


def center_name(code: str | None) -> str:
    """A centre as tables show it: its name, the code after it; an unknown code as itself."""
    if not code:
        return ""
    name = center_names().get(code)
    return f"{name} ({code})" if name else code


def describe(description: str, lang: str) -> str:
    """A template's description in ``lang``: "Korean (English)" gives the part asked for."""
    both = re.fullmatch(r"(?P<ko>.*\S)\s*\((?P<en>[^()]*)\)", description.strip())
    if not both:
        return description.strip()
    return both["en"] if lang == "en" else both["ko"]


def template_name(key: str, lang: str) -> str:
    """A template's description in ``lang`` (its key when it has none)."""
    if "template_descriptions" not in g:
        with context().engine.connect() as conn:
            g.template_descriptions = {v.key: v.spec.description for v in template_repo.listing(conn)}
    descriptions: dict[str, str] = g.template_descriptions
    return describe(descriptions.get(key, ""), lang) or key
