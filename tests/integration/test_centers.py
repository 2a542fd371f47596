"""The centre registry: shipped seed, loading files, and messages sent on a centre's behalf."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from notifier.centers import service as centers
from notifier.cli import main
from notifier.errors import ValidationFailed
from tests.factories import KOREAN_MORNING, message_body
from tests.integration.test_delivery import FrozenClock


@pytest.fixture
def env(env):
    """The quiet hours the service ships with (the suite's default is none)."""
    return {**env, "NOTIFIER_QUIET_HOURS": "21:00-08:00"}


def test_the_seed_holds_only_the_contacts_in_the_public_announcement(client, auth) -> None:
    listed = {c["code"]: c for c in client.get("/v1/centers", headers=auth).json["items"]}
    assert set(listed) == {"gumi", "seosan", "moel-tf"}
    assert listed["seosan"]["phone_display"] == "041-661-5676"
    assert listed["gumi"]["phone"] == "+82544403396"
    assert listed["moel-tf"]["phone_display"] == "044-202-7369"
    assert all(c["address"] is None for c in listed.values())
    assert listed["seosan"]["quiet_hours"] == "21:00-08:00"


def test_centers_need_a_key(client) -> None:
    assert client.get("/v1/centers").status_code == 401


def test_a_message_sent_for_a_center_code_carries_its_name_phone_and_sender(
    client, auth, ctx, twilio
) -> None:
    from notifier.messages.sending import deliver

    ctx.clock = FrozenClock(KOREAN_MORNING)  # outside the centre's quiet hours
    body = message_body(center={"code": "gumi"})
    message_id = client.post("/v1/messages", json=body, headers=auth).json["id"]
    deliver(ctx, message_id)
    [sent] = twilio.messages
    assert sent.from_ == "+82544403396"
    assert "구미고용복지+센터" in sent.body and "054-440-3396" in sent.body


def test_an_unknown_center_code_is_a_422_on_that_field(client, auth) -> None:
    response = client.post("/v1/messages", json=message_body(center={"code": "atlantis"}), headers=auth)
    assert response.status_code == 422
    assert response.json["errors"][0]["pointer"] == "/center/code"


def test_a_centers_file_with_mistakes_reports_every_one_and_loads_nothing(tmp_path: Path, ctx) -> None:
    bad = tmp_path / "centers.yaml"
    bad.write_text(
        "- {code: x1, name: 가, phone: '12', sms_sender: 041-661-5676, timezone: Mars/Base}\n"
        "- {code: ok, name: 나, phone: 041-661-5676, sms_sender: 041-661-5676, reminder_offsets: soon}\n",
        encoding="utf-8",
    )
    with pytest.raises(ValidationFailed) as error:
        centers.parse_file(bad)
    pointers = {e.pointer for e in error.value.errors}
    assert {"/0/phone", "/0/timezone", "/1/reminder_offsets"} <= pointers


def test_centers_load_command_adds_and_updates(tmp_path: Path, env, ctx) -> None:
    good = tmp_path / "centers.yaml"
    good.write_text(
        "- code: test-center\n  name: 시험고용센터\n  phone: 02-123-4567\n  sms_sender: 02-123-4567\n"
        "  reminder_offsets: 48h,3h\n  quiet_hours: '22:00-07:00'\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["centers", "load", str(good)], env=env)
    assert result.exit_code == 0, result.output
    center = centers.get(ctx, "test-center")
    assert center.phone == "+8221234567"
    assert [o.total_seconds() for o in center.reminder_offsets] == [48 * 3600, 3 * 3600]
    bad = tmp_path / "bad.yaml"
    bad.write_text("- {code: y, name: '', phone: x, sms_sender: x}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["centers", "load", str(bad)], env=env)
    assert result.exit_code != 0
    assert "/0/phone" in result.output
