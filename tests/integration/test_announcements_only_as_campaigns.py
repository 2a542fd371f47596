"""An announcement goes only as a campaign: POST /v1/messages refuses it and stores nothing.

Only a campaign checks what an announcement needs (consent, opt-outs, quiet hours, the (광고)
marking), so an opt-out of scope "all" stops every announcement only if none goes another way.
That a campaign with the same template still reaches a consenting person with its markings is
shown in test_campaign_delivery.py
(``test_advertising_sms_carries_the_markings_and_the_free_opt_out_line``), and that its test
send reaches the admin in test_campaigns_api.py
(``test_a_test_send_goes_to_the_admin_now_with_the_markings``).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from notifier.messages.sending import deliver_many
from notifier.messages.tables import messages
from tests.factories import FrozenClock
from tests.integration.test_templates_api import fair_template

PROBLEM = "application/problem+json"
ADVICE = (
    "announcements are sent as campaigns (POST /v1/campaigns), which check consent, opt-outs and quiet hours"
)
# 06:28 in Korea: still within the default quiet hours (21:00-08:00).
DAWN = datetime(2026, 12, 1, 21, 28, tzinfo=UTC)


@pytest.fixture
def env(env):
    return {**env, "NOTIFIER_QUIET_HOURS": "21:00-08:00"}


@pytest.fixture
def crm(make_key):
    return {"Authorization": f"Bearer {make_key('send', 'campaigns', 'templates', name='crm', owner='crm')}"}


def stored(ctx) -> list[dict]:
    with ctx.engine.connect() as conn:
        return [dict(row) for row in conn.execute(select(messages)).mappings()]


def count(ctx) -> int:
    with ctx.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(messages)).scalar_one()


def announcement(template: str, to: dict[str, str], **changes) -> dict:
    return {"template": template, "center": {"code": "seosan"}, "to": to, "data": {}, **changes}


def assert_refused(response, template: str) -> None:
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    assert response.json["status"] == 422
    assert response.json["errors"] == [
        {"pointer": "/template", "detail": f"template {template!r} is an announcement; {ADVICE}"}
    ]
    assert "POST /v1/campaigns" in response.json["detail"]


@pytest.mark.parametrize("template", ["program_announcement_jobseekers", "program_announcement_employers"])
def test_an_announcement_to_people_who_opted_out_is_refused_and_reaches_nobody(
    client, crm, ctx, twilio, smtp, template
) -> None:
    ctx.clock = FrozenClock(datetime(2026, 12, 1, 2, 0, tzinfo=UTC))  # 11:00 in Korea
    for opt_out in (
        {"phone": "010-8888-9999", "scope": "advertising"},
        {"email": "kim@seosan.kr", "scope": "all"},
    ):
        assert client.post("/v1/opt-outs", json=opt_out, headers=crm).status_code == 201
    before = count(ctx)

    by_sms = client.post("/v1/messages", json=announcement(template, {"phone": "010-8888-9999"}), headers=crm)
    by_email = announcement(template, {"email": "kim@seosan.kr"}, channel="email")
    by_email = client.post("/v1/messages", json=by_email, headers=crm)

    assert_refused(by_sms, template)
    assert_refused(by_email, template)
    assert count(ctx) == before
    deliver_many(ctx, [m["id"] for m in stored(ctx)])  # whatever a worker would send now
    assert twilio.messages == []
    assert smtp.messages == []


def test_an_urgent_announcement_at_dawn_to_someone_without_consent_is_refused(
    client, crm, ctx, twilio
) -> None:
    ctx.clock = FrozenClock(DAWN)
    body = announcement("program_announcement_jobseekers", {"phone": "010-2345-6789"}, urgent=True)

    response = client.post("/v1/messages", json=body, headers=crm)

    assert_refused(response, "program_announcement_jobseekers")
    assert count(ctx) == 0
    assert client.get("/v1/messages", headers=crm).json["items"] == []
    assert twilio.messages == []


def test_a_centres_own_announcement_template_is_refused_too(client, crm, ctx) -> None:
    assert client.put("/v1/templates/job_fair", json=fair_template(), headers=crm).status_code == 201
    fair = {"fair": {"when": "12월 10일(수) 오후 2시", "place": "센터 대강당"}}
    body = announcement("job_fair", {"phone": "010-2345-6789"}, data=fair)

    assert_refused(client.post("/v1/messages", json=body, headers=crm), "job_fair")
    assert count(ctx) == 0
