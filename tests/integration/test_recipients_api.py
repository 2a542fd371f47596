"""PUT/GET/DELETE /v1/recipients/{id}: contact details and consents, per client, erasable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import func, select

from notifier.consent.advertising_consent import advertising_consent_ok, night_consent_ok
from notifier.consent.tables import recipients

PROBLEM = "application/problem+json"


def ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat()


def recipient_body(**changes):
    body = {
        "name": "홍길동",
        "phone": "010-1234-5678",
        "email": "Hong@Example.com",
        "locale": "ko",
        "center": "seosan",
        "tags": ["jobseeker", "seosan", "jobseeker"],
        "consents": {
            "sms_advertising": {"given_at": ago(days=30), "reconfirmed_at": None},
            "email_advertising": None,
            "night_advertising": None,
        },
    }
    body.update(changes)
    return body


@pytest.fixture
def campaigns(make_key):
    return {"Authorization": f"Bearer {make_key('campaigns', name='crm')}"}


def count(ctx, table=recipients) -> int:
    with ctx.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def stored(ctx, external_id="r-1"):
    with ctx.engine.connect() as conn:
        return (
            conn.execute(select(recipients).where(recipients.c.external_id == external_id)).mappings().first()
        )


def assert_problem(response, status, *pointers):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    if pointers:
        assert {e["pointer"] for e in response.json["errors"]} >= set(pointers), response.json["errors"]
    return response.json


def test_put_creates_then_replaces_and_get_shows_the_normalised_recipient(client, campaigns) -> None:
    created = client.put("/v1/recipients/r-1", json=recipient_body(), headers=campaigns)
    assert created.status_code == 201
    assert created.headers["Location"].endswith("/v1/recipients/r-1")
    body = created.json
    assert body["phone"] == "+821012345678"
    assert body["email"] == "hong@example.com"
    assert body["tags"] == ["jobseeker", "seosan"]
    assert body["consent_valid"] == {
        "sms_advertising": True,
        "email_advertising": False,
        "night_advertising": False,
    }
    replaced = client.put(
        "/v1/recipients/r-1", json=recipient_body(name="홍길순", tags=[]), headers=campaigns
    )
    assert replaced.status_code == 200
    assert replaced.json["created_at"] == body["created_at"]
    shown = client.get("/v1/recipients/r-1", headers=campaigns).json
    assert shown["name"] == "홍길순" and shown["tags"] == []


@pytest.mark.parametrize(
    ("consent", "valid"),
    [
        ({"given_at": ago(days=365)}, True),
        ({"given_at": ago(days=731)}, False),
        ({"given_at": ago(days=3 * 365), "reconfirmed_at": ago(days=300)}, True),
        ({"given_at": ago(days=5 * 365), "reconfirmed_at": ago(days=3 * 365)}, False),
        (None, False),
    ],
)
def test_consent_older_than_two_years_counts_only_if_reconfirmed(
    client, campaigns, ctx, consent, valid
) -> None:
    consents = {"sms_advertising": consent, "email_advertising": consent, "night_advertising": consent}
    body = client.put("/v1/recipients/r-1", json=recipient_body(consents=consents), headers=campaigns).json
    assert body["consent_valid"] == dict.fromkeys(consents, valid)
    now = datetime.now(UTC)
    with ctx.engine.connect() as conn:
        sms = advertising_consent_ok(
            ctx, conn, owner="crm", channel="sms", phone="010 1234 5678", email=None, now=now
        )
        email = advertising_consent_ok(
            ctx, conn, owner="crm", channel="email", phone=None, email="HONG@example.com", now=now
        )
        night = night_consent_ok(ctx, conn, owner="crm", phone="+821012345678", now=now)
    assert sms is email is night is valid


def test_consent_checks_see_only_the_owners_live_recipients(client, campaigns, make_key, ctx) -> None:
    client.put("/v1/recipients/r-1", json=recipient_body(), headers=campaigns)
    now = datetime.now(UTC)

    def sms_ok(owner: str) -> bool:
        with ctx.engine.connect() as conn:
            return advertising_consent_ok(
                ctx, conn, owner=owner, channel="sms", phone="+821012345678", email=None, now=now
            )

    assert sms_ok("crm")
    assert not sms_ok("someone-else")
    with ctx.engine.connect() as conn:
        assert not advertising_consent_ok(
            ctx, conn, owner="crm", channel="sms", phone="010-9999-8888", email=None, now=now
        )
        assert not advertising_consent_ok(
            ctx, conn, owner="crm", channel="sms", phone=None, email=None, now=now
        )
    client.delete("/v1/recipients/r-1", headers=campaigns)
    assert not sms_ok("crm")


def test_recipients_of_one_client_are_invisible_to_another(client, campaigns, make_key, ctx) -> None:
    client.put("/v1/recipients/r-1", json=recipient_body(), headers=campaigns)
    other = {"Authorization": f"Bearer {make_key('campaigns', name='other')}"}
    assert_problem(client.get("/v1/recipients/r-1", headers=other), 404)
    assert_problem(client.delete("/v1/recipients/r-1", headers=other), 404)
    assert (
        client.put("/v1/recipients/r-1", json=recipient_body(name="타인"), headers=other).status_code == 201
    )
    assert client.get("/v1/recipients/r-1", headers=campaigns).json["name"] == "홍길동"
    assert count(ctx) == 2


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"phone": "12"}, "/phone"),
        ({"phone": "044-202-7369"}, "/phone"),
        ({"email": "not-an-address"}, "/email"),
        ({"phone": None, "email": None}, ""),
        ({"center": "atlantis"}, "/center"),
        ({"locale": "korean"}, "/locale"),
        ({"tags": ["x" * 51]}, "/tags/0"),
        ({"tags": "seosan"}, "/tags"),
        ({"unexpected": 1}, "/unexpected"),
        (
            {"consents": {"sms_advertising": {"given_at": "2026-01-01T09:00:00"}}},
            "/consents/sms_advertising/given_at",
        ),
        ({"consents": {"sms_advertising": {"given_at": "yesterday"}}}, "/consents/sms_advertising/given_at"),
        (
            {"consents": {"email_advertising": {"given_at": ago(days=-1)}}},
            "/consents/email_advertising/given_at",
        ),
        (
            {"consents": {"night_advertising": {"given_at": ago(days=1), "reconfirmed_at": ago(days=-1)}}},
            "/consents/night_advertising/reconfirmed_at",
        ),
        (
            {"consents": {"sms_advertising": {"given_at": ago(days=1), "reconfirmed_at": ago(days=2)}}},
            "/consents/sms_advertising/reconfirmed_at",
        ),
        ({"consents": {"fax_advertising": None}}, "/consents/fax_advertising"),
    ],
)
def test_invalid_fields_are_named_by_json_pointer_and_change_nothing(
    client, campaigns, ctx, change, pointer
) -> None:
    client.put("/v1/recipients/kept", json=recipient_body(), headers=campaigns)
    before = dict(stored(ctx, "kept"))
    assert_problem(
        client.put("/v1/recipients/new", json=recipient_body(**change), headers=campaigns), 422, pointer
    )
    assert_problem(
        client.put("/v1/recipients/kept", json=recipient_body(**change), headers=campaigns), 422, pointer
    )
    assert count(ctx) == 1
    assert dict(stored(ctx, "kept")) == before


def test_every_bad_field_is_reported_at_once(client, campaigns) -> None:
    body = recipient_body(
        phone="010-1234", center="atlantis", consents={"sms_advertising": {"given_at": ago(days=-2)}}
    )
    response = client.put("/v1/recipients/r-1", json=body, headers=campaigns)
    assert_problem(response, 422, "/phone", "/center", "/consents/sms_advertising/given_at")


def test_an_external_id_must_be_a_plain_identifier(client, campaigns, ctx) -> None:
    assert_problem(
        client.put("/v1/recipients/홍길동", json=recipient_body(), headers=campaigns), 422, "/external_id"
    )
    assert_problem(client.put(f"/v1/recipients/{'x' * 101}", json=recipient_body(), headers=campaigns), 422)
    assert count(ctx) == 0


def test_malformed_json_and_wrong_content_type(client, campaigns, ctx) -> None:
    json_headers = {**campaigns, "Content-Type": "application/json"}
    assert_problem(client.put("/v1/recipients/r-1", data="{not json", headers=json_headers), 400)
    assert_problem(client.put("/v1/recipients/r-1", data="[1]", headers=json_headers), 400)
    text = {**campaigns, "Content-Type": "text/plain"}
    assert_problem(client.put("/v1/recipients/r-1", data="name=x", headers=text), 415)
    assert count(ctx) == 0


@pytest.mark.parametrize(
    ("method", "path"),
    [("put", "/v1/recipients/r-1"), ("get", "/v1/recipients/r-1"), ("delete", "/v1/recipients/r-1")],
)
def test_missing_unknown_and_underscoped_keys(client, make_key, ctx, method, path) -> None:
    call = getattr(client, method)
    body = recipient_body()
    assert_problem(call(path, json=body), 401)
    assert_problem(call(path, json=body, headers={"Authorization": "Bearer ntf_nope"}), 401)
    send_only = {"Authorization": f"Bearer {make_key('send')}"}
    assert_problem(call(path, json=body, headers=send_only), 403)
    assert count(ctx) == 0
    admin = {"Authorization": f"Bearer {make_key('admin', name='ops')}"}
    assert client.put(path, json=body, headers=admin).status_code == 201


def test_delete_erases_personal_data_and_repeats_as_204(client, campaigns, ctx) -> None:
    client.put("/v1/recipients/r-1", json=recipient_body(), headers=campaigns)
    assert client.delete("/v1/recipients/r-1", headers=campaigns).status_code == 204
    row = stored(ctx)
    assert row["erased_at"] is not None
    for column in ("name", "phone", "email", "locale", "center", "tags", "sms_advertising_given_at"):
        assert row[column] is None, column
    assert "1234" not in str(dict(row)) and "hong" not in str(dict(row)).lower()
    assert_problem(client.get("/v1/recipients/r-1", headers=campaigns), 404)
    assert client.delete("/v1/recipients/r-1", headers=campaigns).status_code == 204
    assert_problem(client.delete("/v1/recipients/never-stored", headers=campaigns), 404)


def test_put_after_erasure_creates_the_recipient_anew(client, campaigns) -> None:
    client.put("/v1/recipients/r-1", json=recipient_body(), headers=campaigns)
    client.delete("/v1/recipients/r-1", headers=campaigns)
    again = client.put("/v1/recipients/r-1", json=recipient_body(tags=["new"]), headers=campaigns)
    assert again.status_code == 201
    assert again.json["tags"] == ["new"]


def test_responses_match_the_documented_schema(client, campaigns) -> None:
    spec = client.get("/openapi.json").json
    schema = {"$ref": "#/components/schemas/Recipient", "components": spec["components"]}
    created = client.put("/v1/recipients/r-1", json=recipient_body(), headers=campaigns)
    Draft202012Validator(schema).validate(created.json)
    Draft202012Validator(schema).validate(client.get("/v1/recipients/r-1", headers=campaigns).json)
    request_schema = {"$ref": "#/components/schemas/RecipientPut", "components": spec["components"]}
    Draft202012Validator(request_schema).validate(recipient_body())


def test_erasure_reaches_the_owners_messages_and_cancels_what_was_not_sent(
    client, campaigns, make_key, ctx, twilio
) -> None:
    from notifier.channels.outbox import outbox
    from notifier.messages import repository as repo
    from notifier.messages.sending import deliver
    from tests.factories import message_body

    sender = {"Authorization": f"Bearer {make_key('send', name='crm-sender', owner='crm')}"}
    client.put("/v1/recipients/r-1", json=recipient_body(), headers=campaigns)
    phone = stored(ctx)["phone"]
    sent = client.post(
        "/v1/messages", json=message_body(to={"phone": phone, "name": "홍길동"}), headers=sender
    )
    pending = client.post(
        "/v1/messages",
        json=message_body(
            to={"phone": phone, "name": "홍길동"}, send_at=(datetime.now(UTC) + timedelta(days=1)).isoformat()
        ),
        headers=sender,
    )
    assert sent.status_code == pending.status_code == 202, sent.json
    deliver(ctx, sent.json["id"])
    assert client.delete("/v1/recipients/r-1", headers=campaigns).status_code == 204
    with ctx.engine.connect() as conn:
        done, waiting = repo.get(conn, sent.json["id"]), repo.get(conn, pending.json["id"])
        left_in_outbox = conn.execute(select(func.count()).select_from(outbox)).scalar_one()
    assert done["status"] == "sent"
    assert waiting["status"] == "cancelled"
    for row in (done, waiting):
        assert row["to_phone"] is None
        assert row["to_name"] == ""
        assert row["body"] == "[erased]"
        assert "홍길동" not in str(dict(row))
    assert left_in_outbox == 0
