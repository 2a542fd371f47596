"""`notifier experiment start|show|stop|report`: the admin's twin of /v1/experiments, on the real database."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from notifier.cli import main


@pytest.fixture
def notifier(ctx, env):
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(main, list(args), env=env, catch_exceptions=False)

    return run


def test_an_experiment_is_started_read_reported_and_stopped_from_the_command_line(notifier) -> None:
    started = notifier(
        "experiment",
        "start",
        "--center",
        "seosan",
        "--name",
        "비교",
        "--arm",
        "24h,2h=0.5",
        "--arm",
        "48h,3h=0.5",
    )
    assert started.exit_code == 0, started.output
    experiment = json.loads(started.output)
    assert [arm["plan"] for arm in experiment["arms"]] == ["24h,2h", "48h,3h"]
    assert json.loads(notifier("experiment", "show", experiment["id"]).output)["status"] == "running"
    report = json.loads(notifier("experiment", "report", experiment["id"]).output)
    assert [arm["appointments"] for arm in report["arms"]] == ["<5", "<5"]
    stopped = json.loads(notifier("experiment", "stop", experiment["id"]).output)
    assert stopped["status"] == "stopped"


def test_refusals_are_shown_per_field(notifier) -> None:
    refused = notifier(
        "experiment",
        "start",
        "--center",
        "seosan",
        "--name",
        "비교",
        "--arm",
        "24h,2h=0.5",
        "--arm",
        "48h,3h=0.7",
    )
    assert refused.exit_code == 1
    assert "/arms: the shares must add up to 1" in refused.output
    unknown = notifier("experiment", "show", "00000000-0000-4000-8000-000000000000")
    assert unknown.exit_code == 1
    assert "no experiment" in unknown.output
