"""Reminder-plan experiments for a centre manager: ``notifier experiment start|show|stop|report``.

The admin's twin of ``/v1/experiments``: the same use cases, the same refusals, JSON out.
"""

from __future__ import annotations

import json
from collections.abc import Callable
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


def _print_result(use_case: Callable[..., dict[str, Any]], *args: Any) -> None:
    """Run a use case with the command's context and print its answer, or exit with its problem."""
    with command_context() as ctx:
        try:
            _print(use_case(ctx, *args))
        except NotifierError as exc:
            raise problem_exit(exc) from exc


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
    _print_result(experiments.start_experiment, created_by, body)


@experiment.command("show")
@click.argument("experiment_id")
def experiment_show(experiment_id: str) -> None:
    """Print the experiment."""
    _print_result(experiments.get_experiment, experiment_id)


@experiment.command("stop")
@click.argument("experiment_id")
def experiment_stop(experiment_id: str) -> None:
    """Stop it: new appointments get the centre's plan; assigned ones keep theirs."""
    _print_result(experiments.stop_experiment, experiment_id)


@experiment.command("report")
@click.argument("experiment_id")
def experiment_report(experiment_id: str) -> None:
    """Print each arm's no-show rate and its comparison with the first arm."""
    _print_result(experiments.experiment_report, experiment_id)
