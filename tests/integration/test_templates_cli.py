"""`notifier templates list|preview`: the admin's twin of the preview API, on the real database."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from notifier.cli import main
from notifier.domain.templates import TemplateSpec
from notifier.templates import library as template_library
from notifier.templates.library import PREVIEW_OPT_OUT_LINE
from tests.conftest import ROOT
from tests.factories import CENTER, appointment_data

DATA = {"center": CENTER, "recipient": {"name": "김민수"}, **appointment_data(when="12월 9일(화) 오전 10시")}


@pytest.fixture
def notifier(ctx, env):
    """Run the CLI in-process against this run's database (ctx loads the shipped templates)."""
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(main, list(args), env=env, catch_exceptions=False)

    return run


def test_preview_prints_the_sms_with_its_size_as_json(notifier) -> None:
    data = json.dumps(DATA, ensure_ascii=False)
    result = notifier("templates", "preview", "appointment_reminder", "--data", data)
    assert result.exit_code == 0, result.output
    assert "김민수님" in result.output  # ensure_ascii=False: Korean is printed as is
    assert result.output.startswith("{\n  ")  # indented
    shown = json.loads(result.output)
    assert (shown["key"], shown["version"], shown["channel"], shown["locale"]) == (
        "appointment_reminder",
        1,
        "sms",
        "ko",
    )
    assert "12월 9일(화) 오전 10시" in shown["body"]
    assert shown["kr_class"] == "LMS"
    assert shown["encoding"] == "UCS-2"
    assert shown["cp949_bytes"] == len(shown["body"].encode("cp949"))
    assert shown["segments"] > 1
    assert shown["unencodable"] == []


def test_preview_matches_the_api(notifier, client, make_key) -> None:
    editor = {"Authorization": f"Bearer {make_key('templates')}"}
    api = client.post(
        "/v1/templates/appointment_reminder/preview",
        json={"data": DATA, "channel": "email", "locale": "en"},
        headers=editor,
    ).json
    result = notifier(
        "templates",
        "preview",
        "appointment_reminder",
        "--data",
        json.dumps(DATA),
        "--channel",
        "email",
        "--locale",
        "en",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == api


def test_preview_without_data_uses_the_sample(notifier) -> None:
    result = notifier("templates", "preview", "opt_out_confirmation", "--locale", "en")
    assert result.exit_code == 0, result.output
    assert "Hong Gildong" in json.loads(result.output)["body"]


def test_an_advertising_preview_is_marked(notifier) -> None:
    result = notifier("templates", "preview", "program_announcement_jobseekers", "--advertising")
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)["body"]
    assert body.startswith("(광고)서산고용복지+센터")
    assert body.endswith(PREVIEW_OPT_OUT_LINE)


def test_an_older_version_can_be_previewed(notifier, ctx) -> None:
    current = template_library.get_template(ctx, "appointment_change")
    spec = TemplateSpec.from_dict(current)
    sources = {locale: dict(parts) for locale, parts in current["sources"].items()}
    sources["ko"]["sms.txt"] = "[v2] " + sources["ko"]["sms.txt"]
    template_library.save_template(
        ctx,
        "appointment_change",
        spec,
        sources,
        template_library.Author("cli-test", "cli-test", admin=True),
    )
    newest = json.loads(notifier("templates", "preview", "appointment_change").output)
    assert (newest["version"], newest["body"][:5]) == (2, "[v2] ")
    older = json.loads(notifier("templates", "preview", "appointment_change", "--version", "1").output)
    assert older["version"] == 1
    assert not older["body"].startswith("[v2]")


def test_missing_values_are_named_and_the_exit_code_is_1(notifier) -> None:
    result = notifier("templates", "preview", "appointment_reminder", "--data", '{"appointment": {}}')
    assert result.exit_code == 1
    assert "appointment/when" in result.output
    assert "/data/appointment/location: required by the template" in result.output
    assert "Missing template values: the data has no value for appointment/kind, " in result.output
    assert result.output.lower().count("missing template values") == 1


def test_unknown_templates_and_bad_options_are_refused(notifier) -> None:
    unknown = notifier("templates", "preview", "job_fair")
    assert unknown.exit_code == 1
    assert "no template named 'job_fair'" in unknown.output
    for args in (["--data", "{not json"], ["--data", "[1, 2]"], ["--channel", "fax"], ["--version", "0"]):
        result = notifier("templates", "preview", "appointment_reminder", *args)
        assert result.exit_code == 2, (args, result.output)


def test_list_shows_every_template_with_its_current_version(notifier) -> None:
    result = notifier("templates", "list")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 7
    assert lines[0].split()[:3] == ["appointment_cancellation", "v1", "cancellation"]
    assert any("상담 일정 미리 알림" in line for line in lines)


def test_the_installed_command_runs_in_its_own_process(ctx, env) -> None:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "notifier",
            "templates",
            "preview",
            "appointment_confirmation",
            "--data",
            json.dumps(DATA),
            "--channel",
            "sms",
        ],
        env={**os.environ, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    shown = json.loads(completed.stdout)
    assert shown["key"] == "appointment_confirmation"
    assert "1:1 심층상담 예약이 완료되었습니다." in shown["body"]
