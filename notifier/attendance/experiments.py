"""Reminder-plan experiments: a centre's new appointments split between named plans.

A manager starts an experiment for a centre with two or more plans (``24h,2h``, ``48h,3h``,
...), the share of each, a start and an optional end. While it runs, each new appointment of
the centre is assigned an arm by ``domain.attendance.assign_arm`` (a hash of the appointment
and experiment ids), recorded on the appointment and kept when it moves; its reminders follow
the arm's plan. Stopping (or the end passing) sends new appointments back to the centre's
default plan; those already assigned keep theirs. The report compares each arm's no-show
rate with the first arm's (``statistics``).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import Field, field_validator
from sqlalchemy import Connection, case, func, or_, select, update

from notifier.appointments.tables import appointments
from notifier.attendance import statistics
from notifier.attendance.tables import experiments
from notifier.centers import service as centers
from notifier.centers.tables import centers as centers_table
from notifier.context import Context
from notifier.domain.attendance import MIN_CELL, Arm, Outcome, assign_arm, shown_count
from notifier.domain.reminders import parse_offsets, plan_name
from notifier.errors import Conflict, FieldError, NotFound, ValidationFailed
from notifier.responses import ResponseModel, Timestamp
from notifier.schemas import IsoTime, Strict

MAX_ARMS = 6
COUNTS = ("appointments", "outcomes_known", "attended", "no_shows")
SHARE_TOLERANCE = 1e-6


class ArmIn(Strict):
    plan: str = Field(min_length=1, max_length=100, description="reminder offsets, e.g. 24h,2h")
    share: float = Field(gt=0, le=1)

    @field_validator("plan")
    @classmethod
    def _a_plan(cls, value: str) -> str:
        offsets = parse_offsets(value)  # ValueError names the bad offset
        if not offsets:
            raise ValueError("a plan has at least one reminder offset")
        return plan_name(offsets)


class ExperimentIn(Strict):
    center: str = Field(min_length=1, max_length=50)
    name: str = Field(min_length=1, max_length=200)
    arms: list[ArmIn] = Field(min_length=2, max_length=MAX_ARMS, description="the first arm is the control")
    starts_at: IsoTime | None = Field(default=None, description="default: now")
    ends_at: IsoTime | None = None


class ArmView(ResponseModel):
    plan: str
    share: float


class Experiment(ResponseModel):
    id: str
    center: str
    name: str
    arms: list[ArmView]
    status: Literal["planned", "running", "stopped", "ended"]
    starts_at: Timestamp
    ends_at: Timestamp | None
    stopped_at: Timestamp | None
    created_at: Timestamp


class ArmReport(ResponseModel):
    """One arm; the comparison fields compare it with the first arm (absent on the first)."""

    plan: str
    share: float
    appointments: int | Literal["<5"]
    outcomes_known: int | Literal["<5"]
    attended: int | Literal["<5"]
    no_shows: int | Literal["<5"]
    no_show_rate: float | None
    no_show_rate_low: float | None
    no_show_rate_high: float | None
    difference: float | None = Field(default=None, description="this arm's rate minus the first arm's")
    difference_low: float | None = Field(default=None, description="95 % Newcombe interval")
    difference_high: float | None = None
    z: float | None = Field(default=None, description="pooled two-proportion z test against the first arm")
    p_value: float | None = None
    n_per_arm_for_80_power: int | None = Field(
        default=None, description="outcomes each arm needs to detect the observed difference, 80 % power"
    )


class ExperimentReport(ResponseModel):
    experiment: Experiment
    arms: list[ArmReport]


def _status(row: Any, now: datetime) -> Literal["planned", "running", "stopped", "ended"]:
    if row["stopped_at"] is not None:
        return "stopped"
    if now < row["starts_at"]:
        return "planned"
    if row["ends_at"] is not None and now >= row["ends_at"]:
        return "ended"
    return "running"


def _view(row: Any, now: datetime) -> Experiment:
    return Experiment(
        id=row["id"],
        center=row["center_code"],
        name=row["name"],
        arms=[ArmView(**arm) for arm in row["arms"]],
        status=_status(row, now),
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        stopped_at=row["stopped_at"],
        created_at=row["created_at"],
    )


def _overlapping(center: str, start: datetime, end: datetime | None) -> Any:
    """Experiments of ``center`` not stopped whose time overlaps ``[start, end)``."""
    c = experiments.c
    query = select(c.id).where(
        c.center_code == center,
        c.stopped_at.is_(None),
        or_(c.ends_at.is_(None), c.ends_at > start),
    )
    return query.where(c.starts_at < end) if end is not None else query


def start_experiment(ctx: Context, created_by: str, body: ExperimentIn) -> dict[str, Any]:
    """Store a new experiment; 422 for bad arms or times, 409 if one overlaps it at the centre."""
    centers.get(ctx, body.center, "/center")
    now = ctx.clock()
    start = body.starts_at or now
    errors = []
    plans = [arm.plan for arm in body.arms]
    if len(set(plans)) != len(plans):
        errors.append(FieldError("/arms", "each arm needs a different plan"))
    if abs(sum(arm.share for arm in body.arms) - 1.0) > SHARE_TOLERANCE:
        errors.append(FieldError("/arms", "the shares must add up to 1"))
    if body.ends_at is not None and body.ends_at <= max(start, now):
        errors.append(FieldError("/ends_at", "must be after the start and in the future"))
    if errors:
        raise ValidationFailed(errors)
    row = {
        "id": str(uuid.uuid4()),
        "center_code": body.center,
        "name": body.name,
        "arms": [{"plan": arm.plan, "share": arm.share} for arm in body.arms],
        "starts_at": start,
        "ends_at": body.ends_at,
        "stopped_at": None,
        "created_by": created_by,
        "created_at": now,
    }
    with ctx.engine.begin() as conn:
        # Lock the centre's row: two starts at one centre take turns, so two overlapping
        # experiments cannot both pass the check below (SQLite serialises writers anyway).
        conn.execute(
            select(centers_table.c.code).where(centers_table.c.code == body.center).with_for_update()
        )
        overlapping = conn.execute(_overlapping(body.center, start, body.ends_at)).first()
        if overlapping is not None:
            raise Conflict(f"experiment {overlapping[0]} already runs at {body.center} in that time")
        conn.execute(experiments.insert().values(**row))
    return _view(row, now).dump()


def _find(conn: Connection, experiment_id: str) -> Any:
    row = conn.execute(select(experiments).where(experiments.c.id == experiment_id)).mappings().first()
    if row is None:
        raise NotFound(f"no experiment {experiment_id!r}")
    return row


def get_experiment(ctx: Context, experiment_id: str) -> dict[str, Any]:
    with ctx.engine.connect() as conn:
        return _view(_find(conn, experiment_id), ctx.clock()).dump()


def list_experiments(ctx: Context, centers: frozenset[str] | None) -> list[Experiment]:
    """The experiments of ``centers`` (None: every centre), the newest start first."""
    query = select(experiments).order_by(experiments.c.starts_at.desc(), experiments.c.id)
    if centers is not None:
        query = query.where(experiments.c.center_code.in_(sorted(centers)))
    now = ctx.clock()
    with ctx.engine.connect() as conn:
        return [_view(row, now) for row in conn.execute(query).mappings()]


def stop_experiment(ctx: Context, experiment_id: str) -> dict[str, Any]:
    """Stop it: new appointments get the default plan, assigned ones keep theirs; a repeat changes nothing."""
    now = ctx.clock()
    with ctx.engine.begin() as conn:
        _find(conn, experiment_id)
        conn.execute(
            update(experiments)
            .where(experiments.c.id == experiment_id, experiments.c.stopped_at.is_(None))
            .values(stopped_at=now)
        )
        return _view(_find(conn, experiment_id), now).dump()


def assign(conn: Connection, appointment_id: str, center: str, now: datetime) -> tuple[str, str] | None:
    """The running experiment of ``center`` and the arm ``appointment_id`` falls in, or None."""
    c = experiments.c
    row = (
        conn.execute(
            select(c.id, c.arms)
            .where(
                c.center_code == center,
                c.stopped_at.is_(None),
                c.starts_at <= now,
                or_(c.ends_at.is_(None), c.ends_at > now),
            )
            .order_by(c.starts_at.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    arms = [Arm(arm["plan"], float(arm["share"])) for arm in row["arms"]]
    return row["id"], assign_arm(appointment_id, row["id"], arms)


def experiment_report(ctx: Context, experiment_id: str) -> dict[str, Any]:
    """Per arm the no-show rate with its interval, and each arm against the first."""
    a = appointments.c
    with ctx.engine.connect() as conn:
        row = _find(conn, experiment_id)
        query = (
            select(
                a.experiment_arm,
                func.count().label("appointments"),
                func.count(a.outcome).label("outcomes_known"),
                func.count(case((a.outcome == Outcome.ATTENDED.value, 1))).label("attended"),
                func.count(case((a.outcome == Outcome.NO_SHOW.value, 1))).label("no_shows"),
            )
            .where(a.experiment_id == experiment_id)
            .group_by(a.experiment_arm)
        )
        counts = {r["experiment_arm"]: r for r in conn.execute(query).mappings()}
    zero = {"appointments": 0, "outcomes_known": 0, "attended": 0, "no_shows": 0}
    arms = [(arm, counts.get(arm["plan"], zero)) for arm in row["arms"]]
    first = arms[0][1]
    reports = [
        _arm_report(arm, values, first if index > 0 else None) for index, (arm, values) in enumerate(arms)
    ]
    return ExperimentReport(experiment=_view(row, ctx.clock()), arms=reports).dump()


def _arm_report(arm: dict[str, Any], values: Any, first: Any | None) -> ArmReport:
    n, known, no_shows = int(values["appointments"]), int(values["outcomes_known"]), int(values["no_shows"])
    shown = n >= MIN_CELL
    interval = statistics.wilson(no_shows, known) if shown else None
    fields: dict[str, Any] = {
        "plan": arm["plan"],
        "share": arm["share"],
        **{name: shown_count(int(values[name]), n) for name in COUNTS},
        "no_show_rate": no_shows / known if interval is not None else None,
        "no_show_rate_low": interval.low if interval is not None else None,
        "no_show_rate_high": interval.high if interval is not None else None,
    }
    if first is not None and shown and int(first["appointments"]) >= MIN_CELL:
        comparison = statistics.compare(no_shows, known, int(first["no_shows"]), int(first["outcomes_known"]))
        if comparison is not None:
            fields.update(
                difference=comparison.difference,
                difference_low=comparison.interval.low,
                difference_high=comparison.interval.high,
                z=comparison.z,
                p_value=comparison.p_value,
                n_per_arm_for_80_power=comparison.n_per_arm_for_80_power,
            )
    return ArmReport(**fields)


def register(ctx: Context) -> None:
    ctx.assign_reminder_plan = assign
