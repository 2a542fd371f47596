"""Attendance: outcomes (scope ``appointments``), the attendance report and experiments (``admin``)."""

from __future__ import annotations

from typing import Any, Literal

from flask import Blueprint, Response, g, request
from pydantic import Field, ValidationError

from notifier.api.auth import requires
from notifier.api.context import context
from notifier.api.openapi import JSON, Answers, doc, problems, scope, text
from notifier.api.problems import parse_json, validation_errors
from notifier.appointments.views import Appointment
from notifier.attendance import experiments, outcomes, reports
from notifier.attendance.experiments import Experiment, ExperimentIn, ExperimentReport
from notifier.attendance.reports import AttendanceReport, GroupBy
from notifier.errors import ValidationFailed
from notifier.schemas import AppointmentKind, IsoTime, OutcomeIn, Strict

bp = Blueprint("attendance", __name__, url_prefix="/v1")
ADMIN = scope("admin")
CSV = "text/csv"


class ReportQuery(Strict):
    center: str | None = Field(default=None, max_length=50)
    kind: AppointmentKind | None = None
    channel: Literal["sms", "email", "email+sms"] | None = None
    from_: IsoTime | None = Field(default=None, alias="from", description="default: a year before `to`")
    to: IsoTime | None = Field(default=None, description="default: now")
    group_by: list[GroupBy] = Field(
        default_factory=list, max_length=8, description="repeat it or separate with commas: center,kind"
    )
    format: Literal["json", "csv"] | None = Field(
        default=None, description="csv for CSV; also chosen by `Accept: text/csv`"
    )


@bp.post("/appointments/<external_id>/outcome")
@doc(
    json=OutcomeIn,
    resp=Answers(
        HTTP_200=(Appointment, "Recorded, or replayed"), **problems(400, 401, 403, 404, 409, 415, 422)
    ),
    security=scope("appointments"),
)
@requires("appointments")
def outcome(external_id: str) -> dict[str, Any]:
    """Record what happened at the appointment

    `attended` or `no_show` only once it has started; `late_cancellation` and
    `rescheduled_by_person` at any time. One outcome per revision of the appointment, replaced
    only by a later one: a newer `version` if outcomes are versioned, else a later
    `recorded_at`. An identical replay answers the same and changes nothing; a stale one is a
    409. Sends the `appointment.outcome_recorded` webhook.
    """
    body, raw = parse_json(OutcomeIn)
    return outcomes.record_outcome(context(), g.owner, external_id, body, raw)


def _report_query() -> ReportQuery:
    args: dict[str, Any] = request.args.to_dict()
    groups = [part.strip() for value in request.args.getlist("group_by") for part in value.split(",")]
    args["group_by"] = [part for part in groups if part]
    try:
        return ReportQuery.model_validate(args)
    except ValidationError as exc:
        raise ValidationFailed(validation_errors(exc)) from exc


@bp.get("/reports/attendance")
@doc(
    query=ReportQuery,
    resp=Answers(
        HTTP_200=(AttendanceReport, "One row per group"),
        content={
            200: {
                JSON: {"schema": {"$ref": "#/components/schemas/AttendanceReport"}},
                **text(CSV),
            }
        },
        **problems(401, 403, 422),
    ),
    security=ADMIN,
)
@requires("admin")
def attendance_report() -> Response | dict[str, Any]:
    """Attendance by group: appointments, outcomes, no-show rate with its 95 % Wilson interval

    A group of fewer than 5 appointments shows its counts as `<5` and no rate. CSV with
    `format=csv` (or `Accept: text/csv`), same columns.
    """
    query = _report_query()
    report = reports.attendance_report(
        context(), query.group_by, query.from_, query.to, query.center, query.kind, query.channel
    )
    wants_csv = query.format == "csv" or (
        query.format is None and request.accept_mimetypes.best_match([JSON, CSV]) == CSV
    )
    if wants_csv:
        return Response(
            reports.as_csv(report),
            mimetype=CSV,
            headers={"Content-Disposition": 'attachment; filename="attendance.csv"'},
        )
    return report.dump()


@bp.post("/experiments")
@doc(
    json=ExperimentIn,
    resp=Answers(HTTP_201=(Experiment, "Started (or planned)"), **problems(400, 401, 403, 409, 415, 422)),
    security=ADMIN,
)
@requires("admin")
def start_experiment() -> tuple[dict[str, Any], int]:
    """Start a reminder-plan experiment at a centre

    Each new appointment of the centre is assigned an arm (a hash of its id and the
    experiment's) and its reminders follow the arm's plan, also when it moves.
    """
    body, _raw = parse_json(ExperimentIn)
    return experiments.start_experiment(context(), g.key_name, body), 201


@bp.get("/experiments/<experiment_id>")
@doc(resp=Answers(HTTP_200=(Experiment, "The experiment"), **problems(401, 403, 404)), security=ADMIN)
@requires("admin")
def show_experiment(experiment_id: str) -> dict[str, Any]:
    """An experiment"""
    return experiments.get_experiment(context(), experiment_id)


@bp.post("/experiments/<experiment_id>/stop")
@doc(resp=Answers(HTTP_200=(Experiment, "Stopped"), **problems(401, 403, 404)), security=ADMIN)
@requires("admin")
def stop_experiment(experiment_id: str) -> dict[str, Any]:
    """Stop an experiment

    New appointments get the centre's default plan; assigned ones keep theirs. Repeating it
    changes nothing.
    """
    return experiments.stop_experiment(context(), experiment_id)


@bp.get("/experiments/<experiment_id>/report")
@doc(resp=Answers(HTTP_200=(ExperimentReport, "Per arm"), **problems(401, 403, 404)), security=ADMIN)
@requires("admin")
def experiment_report(experiment_id: str) -> dict[str, Any]:
    """Per arm the no-show rate and interval, and each arm against the first

    The difference with its 95 % Newcombe interval, a pooled two-proportion z test, and the
    outcomes each arm needs to detect the observed difference with 80 % power.
    """
    return experiments.experiment_report(context(), experiment_id)
