"""Reminder-plan experiments in the console: the list, starting one, its report, stopping it.

Managers start and stop experiments at their own centre, the ministry at any; staff read them
only (a start or stop from a staff account is a 403 page and changes nothing). Another centre's
experiment is a 404. Every start and stop is in the audit log. The form is checked here first,
so a person gets every problem at once, in their language; the use case checks again (overlap: 409).
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, redirect, request, url_for

from notifier.api.context import context
from notifier.attendance import experiments
from notifier.attendance.experiments import MAX_ARMS, ArmIn, ExperimentIn
from notifier.centers import service as centers_service
from notifier.console.attendance import local_moment
from notifier.console.i18n import said, word
from notifier.console.pages import FormProblem, center_names, page, when
from notifier.console.session import audit, current_staff, login_required
from notifier.domain.reminders import parse_offsets, plan_name
from notifier.errors import Conflict, ValidationFailed
from notifier.staff.accounts import Role, StaffAccount
from notifier.staff.scope import require_center, visible_centers

bp = Blueprint("experiments", __name__)
FORM_ARMS = 4  # rows of the form; MAX_ARMS through the API


def may_run(staff: StaffAccount) -> bool:
    """Whether ``staff`` may start and stop experiments (at the centres it sees)."""
    return staff.role in (Role.MANAGER, Role.MINISTRY)


def _require_runner(staff: StaffAccount) -> None:
    if not may_run(staff):
        raise FormProblem(403, word("read_only_role"))


def _arms(form: Any, problems: list[tuple[str, str]]) -> list[ArmIn]:
    arms: list[ArmIn] = []
    for index in range(FORM_ARMS):
        plan = form.get(f"plan_{index}", "").strip()[:100]
        share = form.get(f"share_{index}", "").strip()[:20]
        label = f"{word('experiment_arm')} {index + 1}"
        if not plan and not share:
            continue
        try:
            offsets = parse_offsets(plan)
        except ValueError:
            offsets = ()
        if not offsets:
            how = said(
                "알림 계획은 24h,2h처럼 숫자와 단위(s, m, h, d)를 쉼표로 적습니다.",
                "Write a reminder plan like 24h,2h: numbers with a unit (s, m, h, d), separated by commas.",
            )
            problems.append((label, how))
            continue
        try:
            percent = float(share)
        except ValueError:
            percent = math.nan
        if not 0 < percent <= 100:
            share_range = said(
                "비율은 0보다 크고 100 이하인 숫자(%)여야 합니다.",
                "The share must be a number (%) above 0 and at most 100.",
            )
            problems.append((label, share_range))
            continue
        arms.append(ArmIn(plan=plan_name(offsets), share=percent / 100))
    if len(arms) < 2 and not problems:
        two = said("알림 계획을 두 개 이상 적으세요.", "Write at least two reminder plans.")
        problems.append((word("reminder_plan"), two))
    if len(arms) >= 2:
        if len({arm.plan for arm in arms}) != len(arms):
            same = said(
                "계획마다 서로 다른 알림 계획이어야 합니다.", "Each arm needs a different reminder plan."
            )
            problems.append((word("reminder_plan"), same))
        if abs(sum(arm.share for arm in arms) - 1.0) > experiments.SHARE_TOLERANCE:
            total = said("비율의 합이 100이어야 합니다.", "The shares must add up to 100.")
            problems.append((word("share_percent"), total))
    return arms[:MAX_ARMS]


def parse_start(form: Any, staff: StaffAccount) -> ExperimentIn:
    """The experiment the form asks for, or ``FormProblem`` naming every bad field."""
    problems: list[tuple[str, str]] = []
    center = form.get("center", "").strip()
    if not center:
        problems.append((word("center"), said("센터를 고르세요.", "Choose a centre.")))
    else:
        require_center(staff, center)  # a manager naming another centre: as if it did not exist
    name = form.get("name", "").strip()
    if not name or len(name) > 200:
        length = said("실험 이름을 200자 이내로 적으세요.", "Write a name of at most 200 characters.")
        problems.append((word("experiment_name"), length))
    arms = _arms(form, problems)
    starts = local_moment(form.get("starts_at", ""), word("experiment_starts"), problems)
    ends = local_moment(form.get("ends_at", ""), word("experiment_ends"), problems)
    now = context().clock()
    if ends is not None and ends <= max(starts or now, now):
        after = said(
            "종료는 시작 이후이면서 지금보다 뒤여야 합니다.",
            "The end must be after the start and in the future.",
        )
        problems.append((word("experiment_ends"), after))
    if problems:
        raise FormProblem(422, word("experiment_refused"), problems)
    return ExperimentIn(center=center, name=name, arms=arms, starts_at=starts, ends_at=ends)


@bp.get("/experiments")
@login_required
def index() -> Response:
    staff = current_staff()
    centers = visible_centers(staff)
    return page(
        "console/experiments.html",
        listed=experiments.list_experiments(context(), centers),
        may_run=may_run(staff),
        center_choices=sorted(centers) if centers is not None else _every_center(),
        center_names=center_names(),
        arm_rows=range(FORM_ARMS),
    )


def _every_center() -> list[str]:
    return sorted(center.code for center in centers_service.listing(context()))


@bp.post("/experiments")
@login_required
def start() -> Response:
    staff = current_staff()
    _require_runner(staff)
    body = parse_start(request.form, staff)
    ctx = context()
    try:
        started = experiments.start_experiment(ctx, staff.email, body)
    except Conflict as exc:
        overlap = said(
            "이 기간에 이 센터에서 이미 진행 중이거나 예정된 실험이 있습니다.",
            "This centre already has an experiment running or planned in this period.",
        )
        raise FormProblem(409, overlap) from exc
    except ValidationFailed as exc:  # the centre is not registered, or the end passed meanwhile
        needed = said(
            "등록된 센터와 미래의 종료 시각이어야 합니다.",
            "Choose a registered centre and an end in the future.",
        )
        raise FormProblem(422, word("experiment_refused"), [(word("center"), needed)]) from exc
    plans = " / ".join(f"{arm.plan}={arm.share:g}" for arm in body.arms)
    with ctx.engine.begin() as conn:
        audit(conn, "experiment_started", "experiment", started["id"], center_code=body.center, detail=plans)
    target = url_for("console.experiments.show", experiment_id=started["id"], started=1)
    return redirect(target, code=303)  # type: ignore[return-value]


@bp.get("/experiments/<experiment_id>")
@login_required
def show(experiment_id: str) -> Response:
    report = experiments.experiment_report(context(), experiment_id[:36])
    staff = current_staff()
    require_center(staff, report["experiment"]["center"])
    return page(
        "console/experiment.html",
        report=report,
        experiment=report["experiment"],
        may_run=may_run(staff),
        started=request.args.get("started") == "1",
        stopped=request.args.get("stopped") == "1",
        percent=_percent,
        points=_points,
        at=lambda text: when(datetime.fromisoformat(text)) if text else "",
    )


@bp.post("/experiments/<experiment_id>/stop")
@login_required
def stop(experiment_id: str) -> Response:
    staff = current_staff()
    ctx = context()
    found = experiments.get_experiment(ctx, experiment_id[:36])
    require_center(staff, found["center"])  # before the role: another centre's is a 404 to all
    _require_runner(staff)
    stopped = experiments.stop_experiment(ctx, found["id"])
    with ctx.engine.begin() as conn:
        audit(conn, "experiment_stopped", "experiment", found["id"], center_code=found["center"])
    target = url_for("console.experiments.show", experiment_id=stopped["id"], stopped=1)
    return redirect(target, code=303)  # type: ignore[return-value]


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


def _points(value: float | None) -> str:
    """A difference of two rates in percentage points, signed."""
    return "" if value is None else f"{value * 100:+.1f}%p"
