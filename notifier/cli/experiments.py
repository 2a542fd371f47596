"""Reminder-plan experiments for a centre manager: ``notifier experiment start|show|stop|report``.

The admin's twin of ``/v1/experiments``: the same use cases, the same refusals, JSON out.
"""

from __future__ import annotations

import json
from typing import Any

import click
from pydantic import ValidationError

from notifier.attendance import experiments
from notifier.cli.campaigns import problem_exit
from notifier.cli.common import command_context
from notifier.errors import NotifierError


@click.group()
def experiment() -> None:
    """Reminder-plan experiments: start one at a centre, read it, stop it, compare its arms."""


def _print(value: dict[str, Any]) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))


def _arm(text: str) -> dict[str, Any]:
    plan, separator, share = text.rpartition("=")
    if not separator or not plan:
        raise click.BadParameter(f"{text!r}: write PLAN=SHARE, e.g. 24h,2h=0.5")
    try:
        return {"plan": plan, "share": float(share)}
    except ValueError as exc:
        raise click.BadParameter(f"{text!r}: the share must be a number") from exc


@experiment.command("start")
@click.option("--center", required=True, help="code of the centre")
@click.option("--name", required=True)
@click.option(
    "--arm",
    "arms",
    multiple=True,
    required=True,
    help="PLAN=SHARE, e.g. 24h,2h=0.5; the first is the control",
)
@click.option("--starts-at", default=None, help="ISO 8601 with an offset (default: now)")
@click.option("--ends-at", default=None, help="ISO 8601 with an offset (default: none)")
@click.option("--by", "created_by", default="admin-cli", show_default=True)
def experiment_start(
    center: str, name: str, arms: tuple[str, ...], starts_at: str | None, ends_at: str | None, created_by: str
) -> None:
    """Start (or plan) an experiment and print it."""
    raw = {
        "center": center,
        "name": name,
        "arms": [_arm(a) for a in arms],
        "starts_at": starts_at,
        "ends_at": ends_at,
    }
    try:
        body = experiments.ExperimentIn.model_validate({k: v for k, v in raw.items() if v is not None})
    except ValidationError as exc:
        raise click.ClickException(str(exc)) from exc
    with command_context() as ctx:
        try:
            _print(experiments.start_experiment(ctx, created_by, body))
        except NotifierError as exc:
            raise problem_exit(exc) from exc


@experiment.command("show")
@click.argument("experiment_id")
def experiment_show(experiment_id: str) -> None:
    """Print the experiment."""
    with command_context() as ctx:
        try:
            _print(experiments.get_experiment(ctx, experiment_id))
        except NotifierError as exc:
            raise problem_exit(exc) from exc


@experiment.command("stop")
@click.argument("experiment_id")
def experiment_stop(experiment_id: str) -> None:
    """Stop it: new appointments get the centre's plan; assigned ones keep theirs."""
    with command_context() as ctx:
        try:
            _print(experiments.stop_experiment(ctx, experiment_id))
        except NotifierError as exc:
            raise problem_exit(exc) from exc


@experiment.command("report")
@click.argument("experiment_id")
def experiment_report(experiment_id: str) -> None:
    """Print each arm's no-show rate and its comparison with the first arm."""
    with command_context() as ctx:
        try:
            _print(experiments.experiment_report(ctx, experiment_id))
        except NotifierError as exc:
            raise problem_exit(exc) from exc
