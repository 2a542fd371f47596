"""Cost through the API: the price table in previews, campaign reports and campaign status."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from notifier import bootstrap
from notifier.messages.send_many import deliver_bulk
from tests.fakes.solapi_server import FakeSolapi
from tests.fakes.twilio_server import FakeTwilio
from tests.integration.test_campaigns_api import campaign, campaign_messages, create
from tests.integration.test_failover import Clock, context, with_solapi

PRICES = "solapi.SMS=18,solapi.LMS=45,twilio.SMS=75,twilio.LMS=210"


@pytest.fixture
def solapi() -> Iterator[FakeSolapi]:
    with FakeSolapi() as fake:
        yield fake


@pytest.fixture
def env(env: dict[str, str], solapi: FakeSolapi) -> dict[str, str]:
    return {**with_solapi(env, solapi), "NOTIFIER_PRICES": PRICES}


@pytest.fixture
def ctx(settings, clean_db) -> bootstrap.Context:
    return context(settings, clean_db, Clock())


@pytest.fixture
def admin(make_key):
    return {"Authorization": f"Bearer {make_key('campaigns', name='admin', owner='seosan-admin')}"}


@pytest.fixture
def editor(make_key):
    return {"Authorization": f"Bearer {make_key('templates', name='editor')}"}


def people(count: int) -> list[dict[str, str]]:
    return [{"phone": f"010-7000-{n:04d}", "name": f"사람{n}"} for n in range(count)]


def test_an_sms_preview_prices_one_message_through_each_provider_in_order(client, editor) -> None:
    response = client.post(
        "/v1/templates/appointment_reminder/preview", json={"channel": "sms"}, headers=editor
    )
    assert response.status_code == 200, response.json
    shown = response.json
    each = {"SMS": (18, 75), "LMS": (45, 210)}[shown["kr_class"]]
    assert shown["cost"] == [{"provider": "solapi", "krw": each[0]}, {"provider": "twilio", "krw": each[1]}]


def test_an_email_preview_has_no_cost(client, editor) -> None:
    response = client.post(
        "/v1/templates/appointment_reminder/preview", json={"channel": "email"}, headers=editor
    )
    assert response.status_code == 200, response.json
    assert "cost" not in response.json  # email is not priced


def test_the_report_expects_a_cost_and_the_status_counts_what_providers_accepted(
    client, admin, ctx, solapi: FakeSolapi, twilio: FakeTwilio
) -> None:
    body = campaign(recipients=people(5), data={"deadline": "12월 19일(금)"})
    created = create(client, admin, body)
    report = created["report"]
    expected = report["sms"] * 18 + report["lms"] * 45
    assert report["sms"] + report["lms"] == 5
    assert report["expected_cost"] == {"provider": "solapi", "krw": expected}
    assert created["cost"] == {"spent_krw": 0}

    campaign_id = created["id"]
    assert client.post(f"/v1/campaigns/{campaign_id}/start", headers=admin).status_code == 200
    solapi.reject_number("01070000001", "3010")  # refused: costs nothing
    ids = [m["id"] for m in campaign_messages(ctx, campaign_id) if m["status"] == "queued"]
    assert deliver_bulk(ctx, ids) == 4

    shown = client.get(f"/v1/campaigns/{campaign_id}", headers=admin).json
    accepted = solapi.messages
    assert len(accepted) == 4
    assert shown["cost"]["spent_krw"] == sum(18 if m.type == "SMS" else 45 for m in accepted)
    listed = client.get("/v1/campaigns", headers=admin).json["items"]
    assert listed[0]["cost"] == shown["cost"]


def test_messages_that_failed_over_are_priced_at_the_provider_that_took_them(
    client, admin, ctx, solapi: FakeSolapi, twilio: FakeTwilio
) -> None:
    created = create(client, admin, campaign(recipients=people(2), data={"deadline": "12월 19일(금)"}))
    assert client.post(f"/v1/campaigns/{created['id']}/start", headers=admin).status_code == 200
    solapi.fail_next(500, "UnknownError")
    ids = [m["id"] for m in campaign_messages(ctx, created["id"])]
    assert deliver_bulk(ctx, ids) == 2

    rows = campaign_messages(ctx, created["id"])
    assert {m["provider"] for m in rows} == {"twilio"}
    spent = sum(75 if m["kr_class"] == "SMS" else 210 for m in rows)
    assert client.get(f"/v1/campaigns/{created['id']}", headers=admin).json["cost"] == {"spent_krw": spent}
