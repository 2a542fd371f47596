"""Erasing a recipient removes them from every table; only the opt-out's keyed hash remains."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import JSON, String, Text, func, select

from notifier.consent.tables import opt_outs
from notifier.messages.sending import deliver_many
from notifier.messages.tables import messages
from notifier.tables import metadata
from tests.factories import KOREAN_MORNING
from tests.integration.test_appointments_api import booking
from tests.integration.test_campaigns_api import campaign, create
from tests.integration.test_delivery import FrozenClock

PHONE = "+821034567788"
SPELLINGS = ("+821034567788", "010-3456-7788", "01034567788", "1034567788")
EMAIL = "soger@example.com"
NAME = "소거될사람"


@pytest.fixture
def admin(make_key):
    key = make_key("send", "campaigns", "appointments", name="admin", owner="seosan-admin")
    return {"Authorization": f"Bearer {key}"}


def mentions_of_the_person(ctx) -> list[str]:
    """Every (table.column) whose stored text or JSON holds the person's phone, email or name."""
    found = []
    with ctx.engine.connect() as conn:
        for table in metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, String | Text | JSON)]
            for row in conn.execute(select(*columns)).mappings():
                for column in columns:
                    value = row[column.name]
                    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                    digits = "".join(ch for ch in text if ch.isdigit())
                    if SPELLINGS[-1] in digits or EMAIL in text.lower() or NAME in text:
                        found.append(f"{table.name}.{column.name}")
    return sorted(set(found))


def test_an_erased_person_is_in_no_table_but_stays_opted_out(client, admin, ctx, twilio) -> None:
    ctx.clock = FrozenClock(KOREAN_MORNING)
    hook = {"url": "http://127.0.0.1:9/hook", "events": ["recipient.opted_out"]}
    assert client.put("/v1/webhooks", json=hook, headers=admin).status_code == 201
    person = {"name": NAME, "phone": "010-3456-7788", "email": EMAIL, "center": "seosan"}
    assert client.put("/v1/recipients/r-1", json=person, headers=admin).status_code == 201
    people = [{"phone": "010 3456 7788", "name": NAME}, {"phone": "010-9999-0001", "name": "남을사람"}]
    campaign_id = create(client, admin, campaign(recipients=people))["id"]
    assert client.post(f"/v1/campaigns/{campaign_id}/start", headers=admin).status_code == 200
    with ctx.engine.connect() as conn:
        ids = list(conn.execute(select(messages.c.id).where(messages.c.campaign_id == campaign_id)).scalars())
    assert deliver_many(ctx, ids) == 2
    appointment = booking(
        recipient={"name": NAME, "phone": "01034567788", "email": EMAIL, "external_id": "r-1"}
    )
    assert client.put("/v1/appointments/bk-1", json=appointment, headers=admin).status_code == 201
    opted = client.post(
        "/v1/opt-outs", json={"phone": PHONE, "scope": "advertising", "source": "api"}, headers=admin
    )
    assert opted.status_code == 201, opted.json
    assert mentions_of_the_person(ctx)  # the search finds them before the erasure

    assert client.delete("/v1/recipients/r-1", headers=admin).status_code == 204

    assert mentions_of_the_person(ctx) == []
    with ctx.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(opt_outs)).scalar_one() == 1
    again = client.post(
        "/v1/opt-outs", json={"phone": PHONE, "scope": "advertising", "source": "api"}, headers=admin
    )
    assert again.status_code == 200  # the hash still knows the opt-out
