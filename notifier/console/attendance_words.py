"""The words of the attendance and experiment pages, in Korean (default) and English.

Kept apart from ``i18n.WORDS`` (which takes them in) so the attendance pages change one file.
"""

from __future__ import annotations

ATTENDANCE_WORDS: dict[str, tuple[str, str]] = {
    "attendance": ("참석 현황", "Attendance"),
    "experiments": ("알림 계획 실험", "Reminder experiments"),
    "group_by": ("묶는 기준", "Group by"),
    "appointment_kind": ("상담 종류", "Kind"),
    "show_report": ("보기", "Show"),
    "download_csv": ("CSV 내려받기", "Download CSV"),
    "count_appointments": ("예약", "Appointments"),
    "outcomes_known": ("결과 확인", "Outcomes known"),
    "attended": ("참석", "Attended"),
    "no_shows": ("불참", "No-shows"),
    "no_show_rate": ("불참률", "No-show rate"),
    "interval_95": ("95% 신뢰구간", "95 % interval"),
    "confirmed_on_page": ("페이지에서 참석 확인", "Confirmed on page"),
    "report_total": ("전체", "All"),
    "small_cell_note": (
        "예약이 5건 미만인 칸은 개인을 알아볼 수 없도록 건수를 <5로 표시하고 불참률을 보여 주지 않습니다.",
        "A cell of fewer than 5 appointments shows its counts as <5 and no rate, "
        "so no person can be recognised.",
    ),
    "chart_title": ("묶음별 불참률과 95% 신뢰구간", "No-show rate per group with its 95 % interval"),
    "chart_desc": (
        "가로 막대는 불참률, 가는 선은 95% 신뢰구간입니다. 같은 수치가 아래 표에 있습니다.",
        "Each bar is the no-show rate, the thin line its 95 % interval. "
        "The table below has the same figures.",
    ),
    "chart_hidden": ("5건 미만이라 표시하지 않음", "fewer than 5, not shown"),
    "report_period": ("기간", "Period"),
    "experiment_name": ("실험 이름", "Experiment name"),
    "start_experiment": ("실험 시작", "Start the experiment"),
    "new_experiment": ("새 실험", "New experiment"),
    "reminder_plan": ("알림 계획", "Reminder plan"),
    "plan_hint": ("예: 24h,2h (첫 번째 계획이 비교 기준)", "e.g. 24h,2h (the first plan is the baseline)"),
    "share_percent": ("비율 (%)", "Share (%)"),
    "experiment_arm": ("실험군", "Arm"),
    "experiment_starts": ("시작", "Start"),
    "experiment_ends": ("종료 (선택)", "End (optional)"),
    "starts_hint": ("비워 두면 지금 시작합니다.", "Leave empty to start now."),
    "stop_experiment": ("실험 중지", "Stop the experiment"),
    "experiment_stopped_at": ("중지함", "Stopped"),
    "experiment_report": ("결과 보기", "Report"),
    "arm_difference": ("첫 번째 계획과의 차이", "Difference to the first plan"),
    "p_value": ("p값", "p-value"),
    "n_for_power": ("80% 검정력에 필요한 건수 (계획별)", "Needed per arm for 80 % power"),
    "experiment_started": ("실험을 시작했습니다.", "The experiment is started."),
    "experiment_stopped": (
        "실험을 중지했습니다. 새 예약은 센터 기본 알림 계획을 따르고, 이미 배정된 예약은 그대로입니다.",
        "The experiment is stopped. New appointments get the centre's default plan; "
        "assigned ones keep theirs.",
    ),
    "no_experiments": ("아직 실험이 없습니다.", "No experiments yet."),
    "read_only_role": (
        "실험 시작과 중지는 센터 관리자와 고용노동부 계정만 할 수 있습니다.",
        "Only centre managers and the ministry can start or stop an experiment.",
    ),
    "experiment_status_planned": ("예정", "Planned"),
    "experiment_status_running": ("진행 중", "Running"),
    "experiment_status_stopped": ("중지됨", "Stopped"),
    "experiment_status_ended": ("종료됨", "Ended"),
    "attendance_outcome": ("참석 결과", "Outcome"),
    "record_outcome": ("결과 기록", "Record the outcome"),
    "recorded_at": ("발생 시각 (선택)", "When it happened (optional)"),
    "recorded_at_hint": ("비워 두면 지금 시각으로 기록합니다.", "Leave empty to record it as now."),
    "outcome_recorded": ("참석 결과를 기록했습니다.", "The outcome is recorded."),
    "current_outcome": ("기록된 결과", "Recorded outcome"),
    "no_outcome_yet": ("아직 없음", "None yet"),
    "outcome_attended": ("참석", "Attended"),
    "outcome_no_show": ("불참", "No-show"),
    "outcome_late_cancellation": ("직전 취소", "Late cancellation"),
    "outcome_rescheduled_by_person": ("본인 요청으로 일정 변경", "Rescheduled by the person"),
    "bad_moment": (
        "날짜와 시각은 YYYY-MM-DD HH:MM 형식이어야 합니다.",
        "Dates and times are written YYYY-MM-DD HH:MM.",
    ),
    "experiment_refused": ("실험을 시작할 수 없습니다.", "The experiment cannot be started."),
    "outcome_refused": ("참석 결과를 기록할 수 없습니다.", "The outcome cannot be recorded."),
}
