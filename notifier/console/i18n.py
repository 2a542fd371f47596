"""The console's words in Korean (default) and English, and which of the two a request gets.

The choice: the ``console_lang`` cookie (set by the switch in the footer), else the browser's
Accept-Language between ``ko`` and ``en``, else Korean.
"""

from __future__ import annotations

from flask import request

from notifier.console.attendance_words import ATTENDANCE_WORDS

LANGUAGES = ("ko", "en")
LANG_COOKIE = "console_lang"

WORDS: dict[str, tuple[str, str]] = {
    "app": ("고용센터 알림 콘솔", "Employment centre notifications console"),
    "skip": ("본문 바로가기", "Skip to content"),
    "nav": ("주 메뉴", "Main menu"),
    "home": ("홈", "Home"),
    "messages": ("메시지", "Messages"),
    "opt_outs": ("수신거부", "Opt-outs"),
    "keys": ("API 키", "API keys"),
    "audit": ("감사 기록", "Audit log"),
    "sign_out": ("로그아웃", "Sign out"),
    "sign_in": ("로그인", "Sign in"),
    "email": ("이메일", "Email"),
    "password": ("비밀번호", "Password"),
    "new_password": ("새 비밀번호", "New password"),
    "set_password": ("비밀번호 설정", "Set password"),
    "password_hint": ("10자 이상", "At least 10 characters"),
    "password_set": ("비밀번호가 설정되었습니다. 로그인하세요.", "Your password is set. Please sign in."),
    "signed_out": ("로그아웃되었습니다.", "You have signed out."),
    "session_over": (
        "오랫동안 사용하지 않아 로그아웃되었습니다. 다시 로그인하세요.",
        "You were signed out after a period of inactivity. Please sign in again.",
    ),
    "language": ("언어", "Language"),
    "signed_in_as": ("로그인 계정", "Signed in as"),
    "every_center": ("전체 센터", "Every centre"),
    "problem": ("문제가 있습니다", "There is a problem"),
    "back": ("돌아가기", "Go back"),
    "nothing_changed": ("아무것도 변경되지 않았습니다.", "Nothing was changed."),
    "search": ("검색", "Search"),
    "phone_or_email": ("휴대전화 번호 또는 이메일", "Mobile number or email"),
    "reference": ("참조 번호", "Reference"),
    "status": ("상태", "Status"),
    "channel": ("채널", "Channel"),
    "any": ("전체", "Any"),
    "from_date": ("시작일", "From"),
    "to_date": ("종료일", "To"),
    "center": ("센터", "Centre"),
    "recipient": ("받는 사람", "Recipient"),
    "created": ("만든 때", "Created"),
    "no_results": ("결과가 없습니다.", "No results."),
    "next_page": ("다음 페이지", "Next page"),
    "detail": ("자세히", "Details"),
    "history": ("이력", "History"),
    "provider_id": ("발송사 ID", "Provider id"),
    "error_reason": ("실패 사유", "Error reason"),
    "template": ("템플릿", "Template"),
    "when": ("일시", "When"),
    "today": ("오늘", "Today"),
    "last_14_days": ("최근 14일", "Last 14 days"),
    "sent": ("발송", "Sent"),
    "delivered": ("전달", "Delivered"),
    "failed": ("실패", "Failed"),
    "suppressed": ("차단", "Suppressed"),
    "delivery_rate": ("전달률", "Delivery rate"),
    "counts_by_channel": ("채널별 건수", "Counts by channel"),
    "period": ("기간", "Period"),
    "reminders_due": ("24시간 안에 보낼 알림", "Reminders due in the next 24 hours"),
    "campaigns_running": ("진행 중이거나 예약된 캠페인", "Running and scheduled campaigns"),
    "failures_by_reason": ("확인이 필요한 실패 (사유별)", "Failures that need attention, by reason"),
    "count": ("건수", "Count"),
    "name": ("이름", "Name"),
    "scopes": ("권한", "Scopes"),
    "last_used": ("마지막 사용", "Last used"),
    "never": ("없음", "Never"),
    "revoke": ("폐기", "Revoke"),
    "revoked": ("폐기됨", "Revoked"),
    "in_use": ("사용 중", "In use"),
    "actions": ("작업", "Actions"),
    "create_key": ("새 API 키 만들기", "Create an API key"),
    "owner": ("소유 서비스", "Owner"),
    "key_shown_once": (
        "이 키는 지금 한 번만 보입니다. 안전한 곳에 복사해 두세요.",
        "This key is shown only now. Copy it somewhere safe.",
    ),
    "add_opt_out": ("수신거부 등록", "Add an opt-out"),
    "address": ("주소 (휴대전화 번호 또는 이메일)", "Address (mobile number or email)"),
    "scope": ("범위", "Scope"),
    "source": ("접수 경로", "Source"),
    "how": ("방법", "How"),
    "opt_out_found": ("수신거부 기록", "Opt-out records"),
    "no_opt_out": ("이 주소의 수신거부 기록이 없습니다.", "This address has not opted out."),
    "opt_out_added": ("수신거부를 등록했습니다.", "The opt-out is recorded."),
    "actor": ("누가", "Who"),
    "action": ("무엇을", "What"),
    "object": ("대상", "Object"),
    "from_where": ("어디서", "From where"),
    "audit_read_only": ("감사 기록은 읽기만 할 수 있습니다.", "The audit log is read-only."),
    "key_revoked": ("API 키를 폐기했습니다.", "The API key is revoked."),
    "staff": ("직원 계정", "Staff accounts"),
    "role": ("역할", "Role"),
    "create_staff": ("직원 계정 만들기", "Create a staff account"),
    "new_link": ("비밀번호 설정 링크", "Password link"),
    "link_shown_once": (
        "아래 링크를 본인에게 전달하세요. 24시간 동안 한 번만 쓸 수 있고, 다시 표시되지 않습니다.",
        "Give this link to the person. It works once within 24 hours and is not shown again.",
    ),
    "centers_hint": (
        "센터 코드, 여러 개는 쉼표로 (ministry는 비워 둠)",
        "Centre codes, comma-separated (empty for ministry)",
    ),
    "bad_address": (
        "휴대전화 번호 또는 이메일 주소의 형식이 아닙니다.",
        "This is not a mobile number or an email address.",
    ),
    "bad_date": ("날짜는 YYYY-MM-DD 형식이어야 합니다.", "Dates are written YYYY-MM-DD."),
}


def language() -> str:
    """The language of this request's page: ``ko`` or ``en``."""
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES, default="ko") or "ko"


def word(key: str, lang: str | None = None) -> str:
    """The console's word for ``key`` in ``lang`` (default: this request's language)."""
    ko, en = WORDS[key]
    return en if (lang or language()) == "en" else ko


def said(ko: str, en: str) -> str:
    """``ko`` or ``en``, whichever is this request's language (for a text said in one place)."""
    return en if language() == "en" else ko


def add_words(words: dict[str, tuple[str, str]]) -> None:
    """Add a page module's words; a key already meaning something else is a mistake, refused."""
    clashes = sorted(key for key, value in words.items() if WORDS.get(key, value) != value)
    if clashes:
        raise ValueError(f"console words defined twice with different meanings: {clashes}")
    WORDS.update(words)


add_words(ATTENDANCE_WORDS)  # the attendance and experiment pages' words (own module)
