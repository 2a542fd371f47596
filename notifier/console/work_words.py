"""The words of the campaign, template and appointment pages (Korean, English).

Kept apart from ``i18n.WORDS`` so these pages can be read (and merged) on their own; ``add_words``
puts them into the console's one dictionary when the console is wired.
"""

from __future__ import annotations

from notifier.console.i18n import add_words as add_console_words

WORK_WORDS: dict[str, tuple[str, str]] = {
    "campaigns": ("캠페인", "Campaigns"),
    "templates": ("템플릿", "Templates"),
    "appointments": ("예약", "Appointments"),
    "new_campaign": ("새 캠페인", "New campaign"),
    "campaign_name": ("캠페인 이름", "Campaign name"),
    "category": ("분류", "Category"),
    "informational": ("정보성", "Informational"),
    "advertising": ("광고성", "Advertising"),
    "channel_auto": ("자동 (휴대전화 우선)", "Automatic (mobile first)"),
    "opt_out_number": ("무료수신거부 080 번호", "Free 080 opt-out number"),
    "opt_out_hint": ("광고성 문자에는 필수입니다.", "Required for advertising SMS."),
    "recipient_file": ("받는 사람 목록 (CSV)", "Recipient list (CSV)"),
    "csv_hint": (
        "첫 줄: phone, email, name, locale 및 템플릿 값. UTF-8 또는 CP949.",
        "Header row: phone, email, name, locale and template values. UTF-8 or CP949.",
    ),
    "stored_recipients": (
        "저장된 받는 사람 (센터와 태그로 고르기)",
        "Stored recipients (by centre and tags)",
    ),
    "tags": ("태그 (쉼표로 구분)", "Tags (comma-separated)"),
    "tags_hint": (
        "저장된 받는 사람 중 이 센터의, 모든 태그를 가진 사람에게 보냅니다.",
        "Sends to the centre's stored recipients carrying every tag.",
    ),
    "upload_check": ("올리고 검사하기", "Upload and check"),
    "progress": ("진행", "Progress"),
    "report": ("검사 결과", "Validation report"),
    "rows_read": ("읽은 줄", "Rows read"),
    "usable": ("보낼 수 있는 사람", "Usable recipients"),
    "rejected": ("거부된 줄", "Rejected rows"),
    "duplicates_merged": ("중복 합침", "Duplicates merged"),
    "excluded_opted_out": ("수신거부로 제외", "Excluded: opted out"),
    "excluded_no_consent": ("광고 동의 없음으로 제외", "Excluded: no advertising consent"),
    "row": ("줄", "Row"),
    "reason": ("사유", "Reason"),
    "download_rejections": ("거부된 줄 전체 내려받기 (CSV)", "Download every rejected row (CSV)"),
    "preview": ("받는 사람이 보게 될 내용", "What a person receives"),
    "sms_class": ("종류", "Class"),
    "bytes": ("바이트 (CP949)", "Bytes (CP949)"),
    "segments": ("분할 수", "Segments"),
    "encoding": ("인코딩", "Encoding"),
    "subject": ("제목", "Subject"),
    "expected_cost": ("예상 비용", "Expected cost"),
    "spent": ("지금까지 든 비용", "Spent so far"),
    "no_price_table": (
        "가격표가 설정되지 않아 예상 비용을 표시할 수 없습니다.",
        "No price table is configured, so no expected cost is shown.",
    ),
    "send_test": ("나에게 테스트 보내기", "Send a test to myself"),
    "test_phone": ("테스트 받을 휴대전화", "Test mobile number"),
    "test_email": ("테스트 받을 이메일", "Test email"),
    "test_sent": ("테스트 메시지를 보냈습니다.", "The test message is on its way."),
    "approval": ("관리자 승인", "Manager's approval"),
    "approve": ("승인", "Approve"),
    "approved_by": ("승인함", "Approved by"),
    "needs_approval": (
        "광고성 캠페인은 센터 관리자의 승인을 받아야 시작할 수 있습니다.",
        "An advertising campaign can start only once a centre manager has approved it.",
    ),
    "start": ("시작", "Start"),
    "start_now": ("지금 시작", "Start now"),
    "start_at": ("예약 시각 (비우면 지금)", "Start at (empty: now)"),
    "cancel_campaign": ("캠페인 취소", "Cancel the campaign"),
    "counts_by_status": ("상태별 건수", "Counts by status"),
    "status_draft": ("작성 중", "Draft"),
    "status_scheduled": ("예약됨", "Scheduled"),
    "status_running": ("발송 중", "Running"),
    "status_finished": ("완료", "Finished"),
    "status_cancelled": ("취소됨", "Cancelled"),
    "version": ("버전", "Version"),
    "versions": ("버전 기록", "Versions"),
    "saved_by": ("저장한 사람", "Saved by"),
    "shipped": ("기본 제공", "Shipped"),
    "edit": ("편집", "Edit"),
    "save": ("저장", "Save"),
    "restore": ("이 버전으로 되돌리기", "Restore this version"),
    "compare": ("비교", "Compare"),
    "diff": ("두 버전의 차이", "Difference between two versions"),
    "older": ("이전 버전", "Older version"),
    "newer": ("새 버전", "Newer version"),
    "no_difference": ("차이가 없습니다.", "No difference."),
    "live_preview": ("미리보기", "Preview"),
    "refused_at": ("저장할 수 없는 이유", "Why it cannot be saved"),
    "line": ("줄", "Line"),
    "template_saved": ("새 버전을 저장했습니다.", "The new version is saved."),
    "shipped_needs_manager": (
        "기본 제공 템플릿은 센터 관리자 또는 고용노동부만 바꿀 수 있습니다.",
        "Only a centre manager or the ministry can change a shipped template.",
    ),
    "day": ("날짜", "Day"),
    "show": ("보기", "Show"),
    "starts_at": ("시작", "Starts"),
    "kind": ("종류", "Kind"),
    "counselor": ("상담사", "Counsellor"),
    "reminder_plan": ("알림 계획", "Reminder plan"),
    "what_was_sent": ("보낸 메시지", "What was sent"),
    "answer": ("응답", "Answer"),
    "confirmed": ("참석 확인", "Confirmed"),
    "change_requested": ("변경 요청", "Change requested"),
    "no_answer": ("응답 없음", "No answer"),
    "campaign_refused": ("캠페인을 만들 수 없습니다.", "The campaign cannot be created."),
}


def add_words() -> None:
    """Put these pages' words into the console's dictionary (idempotent)."""
    add_console_words(WORK_WORDS)
