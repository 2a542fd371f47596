"""The reminder's one-part SMS (sms_short.txt): what reaches Twilio, the preview, and save-time checks."""

from __future__ import annotations

import copy
import re
from datetime import datetime

import pytest

from notifier.domain.sms import SMS_MAX_BYTES, cp949_bytes
from notifier.messages.scheduler import dispatch_due
from notifier.messages.sending import deliver
from tests.integration.test_appointments_api import booking
from tests.integration.test_templates_api import as_edit, preview, refusal


@pytest.fixture
def editor(make_key) -> dict[str, str]:
    key = make_key("templates", "admin", name="template-admin", owner="seosan-admin")
    return {"Authorization": f"Bearer {key}"}


@pytest.mark.parametrize(
    ("kind", "locale", "says"),
    [
        ("in_depth_counseling", "ko", "12/3(목) 14:00 심층상담"),
        ("interview_resume_consulting", "ko", "12/3(목) 14:00 면접컨설팅"),
        ("employer_consulting", "en", "HR advice Thu 12/3 14:00"),
    ],
)
def test_a_reminder_reaches_twilio_as_one_sms_whose_link_opens_the_page(
    client, headers, clock, ctx, twilio, kind, locale, says
) -> None:
    recipient = {"name": "홍길동", "phone": "010-1234-5678", "locale": locale}
    appointment = client.put(
        "/v1/appointments/short-1", json=booking(kind=kind, recipient=recipient), headers=headers
    ).json
    reminder = next(m for m in appointment["messages"] if m["purpose"] == "reminder")
    clock.now = datetime.fromisoformat(reminder["send_at"].replace("Z", "+00:00"))
    dispatch_due(ctx)
    deliver(ctx, reminder["id"])
    body = twilio.messages[-1].body
    assert cp949_bytes(body) <= SMS_MAX_BYTES, body
    assert body.startswith("[서산고용복지+센터] ")
    assert says in body
    [link] = re.findall(r"https?://\S+/s/[A-Za-z0-9_\-]{11}", body)
    assert link.startswith(ctx.settings.public_url + "/s/")
    answer = client.get("/s/" + link.rsplit("/s/", 1)[1])
    assert answer.status_code == 302
    page = answer.headers["Location"]
    assert page.endswith("/a/" + appointment["page_url"].rsplit("/a/", 1)[1])
    html = client.get("/a/" + page.rsplit("/a/", 1)[1]).get_data(as_text=True)
    for shown in ("서산고용복지+센터 2층 상담실", "김상담", "041-661-5676"):  # what the SMS leaves out
        assert shown in html


def test_the_confirmation_keeps_its_full_text(client, headers, clock, ctx, twilio) -> None:
    appointment = client.put("/v1/appointments/short-2", json=booking(), headers=headers).json
    confirmation = next(m for m in appointment["messages"] if m["purpose"] == "confirmation")
    deliver(ctx, confirmation["id"])
    body = twilio.messages[-1].body
    assert "서산고용복지+센터 2층 상담실" in body and "041-661-5676" in body
    assert cp949_bytes(body) > SMS_MAX_BYTES


def test_the_reminder_preview_shows_the_one_part_sms(client, editor) -> None:
    shown = preview(client, editor, channel="sms").json
    assert shown["body"] == "[서산고용복지+센터] 12/3(수) 14:00 면접컨설팅\nhttps://notifier.example/a/7Kx2pQ"
    assert (shown["kr_class"], shown["cp949_bytes"]) == ("SMS", len(shown["body"].encode("cp949")))


def test_without_its_values_the_reminder_goes_as_the_full_sms(client, editor) -> None:
    template = client.get("/v1/templates/appointment_reminder", headers=editor).json
    data = copy.deepcopy(template["sample"])
    del data["appointment"]["starts_at"]  # a caller that gives only the formatted 'when'
    shown = preview(client, editor, channel="sms", data=data).json
    assert shown["body"].startswith("안녕하세요, 홍길동님. 서산고용복지+센터입니다.")
    assert "041-661-5676" in shown["body"]


def test_a_one_part_sms_that_cannot_fit_is_refused_and_changes_nothing(client, editor) -> None:
    before = client.get("/v1/templates/appointment_reminder", headers=editor).json
    edit = as_edit(before)
    edit["sources"]["ko"]["sms_short.txt"] = (
        "[{{ center.name }}] 예약하신 상담 일정을 다시 한 번 알려 드립니다.\n{{ appointment.link }}"
    )
    errors = refusal(client.put("/v1/templates/appointment_reminder", json=edit, headers=editor))
    assert (
        errors["/sources/ko/sms_short.txt"]
        == "with the sample data it does not fit one SMS (90 bytes in cp949)"
    )
    assert (
        client.get("/v1/templates/appointment_reminder", headers=editor).json["version"] == before["version"]
    )


def test_a_one_part_sms_needs_the_sms_channel(client, editor) -> None:
    edit = as_edit(client.get("/v1/templates/appointment_reminder", headers=editor).json)
    edit["channels"] = ["email"]
    for locale in ("ko", "en"):
        del edit["sources"][locale]["sms.txt"]
    errors = refusal(client.put("/v1/templates/appointment_reminder", json=edit, headers=editor))
    assert errors["/sources/ko/sms_short.txt"] == "not used: 'sms' is not in channels"
