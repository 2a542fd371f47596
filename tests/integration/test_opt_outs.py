"""POST /v1/opt-outs: at once, at claim time, confirmed, stored only as a keyed hash."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from notifier.consent.addresses import address_hash
from notifier.consent.opt_out_links import opt_out_url
from notifier.consent.opt_outs import opt_out_reason
from notifier.consent.tables import opt_out_links, opt_outs, recipients
from notifier.messages import repository as repo
from notifier.messages.accept import Recipient, new_message_row
from notifier.messages.sending import deliver
from notifier.messages.tables import messages
from notifier.templates.rendering import RenderedMessage
from tests.integration.test_recipients_api import recipient_body

# What an opt-out of scope 'all' stops, as the person reads it (not every message).
ALL_LABEL = "광고와 센터의 단체 안내 메시지 전체 (본인 예약 안내 제외)"

PROBLEM = "application/problem+json"
PHONE = "+821012345678"
CENTER = {
    "code": "seosan",
    "name": "서산고용복지+센터",
    "phone": "+82416615676",
    "sms_sender": "+82416615676",
}


def pending_message(
    ctx,
    *,
    phone: str | None = PHONE,
    email: str | None = None,
    category: str = "advertising",
    campaign: bool = True,
    purpose: str = "announcement",
    owner: str = "crm",
    send_at: datetime | None = None,
) -> str:
    """Store a message as the campaign (or appointment) feature would, without sending it."""
    channel = "sms" if phone else "email"
    now = datetime.now(UTC)
    rendered = RenderedMessage(
        channel=channel,
        locale="ko",
        body="(광고)서산고용복지+센터\n채용박람회 안내\n무료수신거부 080-000-0000",
        subject="(광고) 채용박람회 안내" if channel == "email" else None,
    )
    row = new_message_row(
        ctx,
        owner=owner,
        channel=channel,
        recipient=Recipient(phone=phone, email=email, name="홍길동", locale="ko"),
        center=dict(CENTER),
        rendered=rendered,
        template_key="program_announcement_jobseekers",
        template_version=1,
        data={},
        now=now,
        send_at=send_at or now,
        purpose=purpose,
        category=category,
        lane="bulk",
        campaign_id=str(uuid.uuid4()) if campaign else None,  # one message per campaign and phone
    )
    with ctx.engine.begin() as conn:
        repo.insert_many(conn, [row], now)
    return str(row["id"])


def message(ctx, message_id: str):
    with ctx.engine.connect() as conn:
        return repo.get(conn, message_id)


def last_detail(ctx, message_id: str) -> str | None:
    with ctx.engine.connect() as conn:
        return repo.history(conn, message_id)[-1]["detail"]


def count(ctx, table=opt_outs) -> int:
    with ctx.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


@pytest.fixture
def campaigns(make_key):
    return {"Authorization": f"Bearer {make_key('campaigns', name='crm')}"}


def opt_out(client, headers, **body):
    return client.post(
        "/v1/opt-outs", json={"scope": "advertising", "source": "api", **body}, headers=headers
    )


def assert_problem(response, status, *pointers):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    if pointers:
        assert {e["pointer"] for e in response.json["errors"]} >= set(pointers), response.json["errors"]


def test_advertising_opt_out_suppresses_pending_advertising_at_once(client, campaigns, ctx) -> None:
    queued = pending_message(ctx)
    scheduled = pending_message(ctx, send_at=datetime.now(UTC) + timedelta(days=1))
    informational = pending_message(ctx, category="informational")
    someone_else = pending_message(ctx, phone="+821098765432")
    response = opt_out(client, campaigns, phone="010-1234-5678", source="call_center")
    assert response.status_code == 201, response.json
    assert response.json["suppressed_messages"] == 2
    assert response.json["address"] == "010-****-5678"
    for message_id in (queued, scheduled):
        assert message(ctx, message_id)["status"] == "suppressed"
        assert last_detail(ctx, message_id) == "recipient opted out (advertising, via call_center)"
    assert message(ctx, informational)["status"] == "queued"
    assert message(ctx, someone_else)["status"] == "queued"


def test_opting_out_of_all_spares_only_the_persons_own_appointment_messages(client, campaigns, ctx) -> None:
    advertising = pending_message(ctx)
    announcement = pending_message(ctx, category="informational")
    reminder = pending_message(ctx, category="informational", campaign=False, purpose="reminder")
    booked = pending_message(ctx, category="informational", campaign=False, purpose="confirmation")
    response = opt_out(client, campaigns, phone=PHONE, scope="all")
    assert response.json["suppressed_messages"] == 2
    assert message(ctx, advertising)["status"] == message(ctx, announcement)["status"] == "suppressed"
    assert message(ctx, reminder)["status"] == message(ctx, booked)["status"] == "queued"


def test_an_appointment_reminder_still_goes_out_after_opting_out_of_all(
    client, campaigns, ctx, twilio
) -> None:
    opt_out(client, campaigns, phone=PHONE, scope="all")
    reminder = pending_message(ctx, category="informational", campaign=False, purpose="reminder")
    assert deliver(ctx, reminder).status == "sent"
    assert [m.to for m in twilio.messages] == [PHONE]


def test_a_message_queued_after_the_opt_out_is_suppressed_when_claimed(
    client, campaigns, ctx, twilio
) -> None:
    opt_out(client, campaigns, phone=PHONE, scope="advertising", center="seosan")
    twilio.reset()
    late = pending_message(ctx)
    assert deliver(ctx, late).status == "skipped"
    assert message(ctx, late)["status"] == "suppressed"
    assert last_detail(ctx, late) == "recipient opted out (advertising, via api)"
    assert twilio.requests == []


def test_email_opt_out_matches_the_address_in_any_case(client, campaigns, ctx) -> None:
    pending = pending_message(ctx, phone=None, email="Hong@Example.com")
    response = opt_out(client, campaigns, email="HONG@example.COM")
    assert response.json["suppressed_messages"] == 1
    assert response.json["address"] == "h***@example.com"
    assert message(ctx, pending)["status"] == "suppressed"


def test_the_opt_out_is_confirmed_by_sms_from_the_recipients_center(client, campaigns, ctx, twilio) -> None:
    client.put("/v1/recipients/r-1", json=recipient_body(center="gumi"), headers=campaigns)
    response = opt_out(client, campaigns, phone=PHONE, scope="all", center="seosan")
    confirmation = response.json["confirmation_message_id"]
    assert confirmation
    assert deliver(ctx, confirmation).status == "sent"
    sent = twilio.wait_for_messages(1)[0]
    assert sent.to == PHONE
    assert "구미고용복지+센터" in sent.body and "홍길동님" in sent.body
    assert f"수신거부 범위: {ALL_LABEL}" in sent.body
    assert message(ctx, confirmation)["category"] == "informational"


def test_the_confirmation_speaks_the_recipients_language_and_goes_by_email(
    client, campaigns, ctx, smtp
) -> None:
    body = recipient_body(phone=None, email="hong@example.com", locale="en", name="Hong")
    client.put("/v1/recipients/r-1", json=body, headers=campaigns)
    confirmation = opt_out(client, campaigns, email="hong@example.com").json["confirmation_message_id"]
    assert deliver(ctx, confirmation).status == "sent"
    mail = smtp.wait_for_messages(1)[0]
    assert mail.rcpt_tos == ["hong@example.com"]
    text = mail.message.get_body(preferencelist=("plain",)).get_content()
    assert "Opted out of: advertising" in text


def test_without_a_center_request_center_is_used_else_no_confirmation(client, campaigns, ctx) -> None:
    silent = opt_out(client, campaigns, phone="010-5555-6666")
    assert silent.status_code == 201
    assert silent.json["confirmation_message_id"] is None
    named = opt_out(client, campaigns, phone="010-5555-7777", center="moel-tf")
    assert message(ctx, named.json["confirmation_message_id"])["center"]["code"] == "moel-tf"


@pytest.fixture
def confirmations_refused(ctx):
    """The database refuses to store any opt-out confirmation (a trigger raises)."""
    with ctx.engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE FUNCTION refuse_confirmation() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION 'no confirmations today'; END $$"
        )
        conn.exec_driver_sql(
            "CREATE TRIGGER refuse_confirmation BEFORE INSERT ON messages FOR EACH ROW "
            "WHEN (NEW.template_key = 'opt_out_confirmation') EXECUTE FUNCTION refuse_confirmation()"
        )
    yield
    with ctx.engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER refuse_confirmation ON messages")
        conn.exec_driver_sql("DROP FUNCTION refuse_confirmation()")


def test_a_confirmation_the_database_refuses_leaves_the_opt_out_in_force(
    client, campaigns, ctx, confirmations_refused, caplog
) -> None:
    pending = pending_message(ctx)
    response = opt_out(client, campaigns, phone=PHONE, scope="all", center="seosan")
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.json["confirmation_message_id"] is None
    assert response.json["suppressed_messages"] == 1
    assert message(ctx, pending)["status"] == "suppressed"
    with ctx.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(opt_outs)).scalar_one() == 1
    assert "could not confirm an opt-out" in caplog.text


def test_a_repeated_opt_out_is_200_and_confirmed_only_once(client, campaigns, ctx) -> None:
    first = opt_out(client, campaigns, phone=PHONE, scope="all", center="seosan")
    again = opt_out(client, campaigns, phone="010-1234-5678", scope="advertising", center="seosan")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json["id"] == first.json["id"] and again.json["scope"] == "all"
    assert again.json["confirmation_message_id"] is None
    wider = opt_out(client, campaigns, email="hong@example.com", scope="advertising", center="seosan")
    assert wider.status_code == 201
    assert count(ctx) == 2
    with ctx.engine.connect() as conn:
        confirmations = conn.execute(
            select(func.count()).where(messages.c.template_key == "opt_out_confirmation")
        ).scalar_one()
    assert confirmations == 2


def test_only_a_keyed_hash_of_the_address_is_stored(client, campaigns, ctx) -> None:
    opt_out(client, campaigns, phone="010-1234-5678")
    with ctx.engine.connect() as conn:
        row = conn.execute(select(opt_outs)).mappings().one()
    assert "1234" not in str(dict(row))
    assert row["address_hash"] == address_hash(ctx, "sms", "+82 10-1234-5678")
    other_key = replace(ctx, settings=ctx.settings.with_overrides(secret_key="other"))
    assert address_hash(other_key, "sms", PHONE) != row["address_hash"]


def test_an_erased_recipient_stays_opted_out(client, campaigns, ctx, twilio) -> None:
    client.put("/v1/recipients/r-1", json=recipient_body(), headers=campaigns)
    opt_out(client, campaigns, phone=PHONE, scope="all")
    assert client.delete("/v1/recipients/r-1", headers=campaigns).status_code == 204
    with ctx.engine.connect() as conn:
        leftovers = [
            dict(r) for table in (recipients, opt_outs) for r in conn.execute(select(table)).mappings()
        ]
    assert "1234" not in str(leftovers) and "hong" not in str(leftovers).lower()
    twilio.reset()
    later = pending_message(ctx, category="informational")
    deliver(ctx, later)
    assert message(ctx, later)["status"] == "suppressed"
    assert twilio.requests == []


def test_erasing_a_recipient_deletes_the_owners_unsubscribe_links_to_them(client, campaigns, ctx) -> None:
    client.put("/v1/recipients/r-1", json=recipient_body(), headers=campaigns)
    links = [opt_out_url(ctx, "crm", "sms", PHONE), opt_out_url(ctx, "crm", "email", "hong@example.com")]
    opt_out_url(ctx, "gumi-admin", "sms", PHONE)  # another owner's link is theirs to keep
    assert client.delete("/v1/recipients/r-1", headers=campaigns).status_code == 204
    with ctx.engine.connect() as conn:
        assert [r.owner for r in conn.execute(select(opt_out_links))] == ["gumi-admin"]
    for link in links:
        assert client.get(link.removeprefix(ctx.settings.public_url)).status_code == 404


def test_opt_out_reason_tells_the_campaign_engine_what_may_be_sent(client, campaigns, ctx) -> None:
    opt_out(client, campaigns, phone=PHONE, scope="advertising")

    def reason(address: str, category: str, campaign: bool = True, channel: str = "sms"):
        with ctx.engine.connect() as conn:
            return opt_out_reason(
                ctx, conn, channel=channel, address=address, category=category, campaign=campaign
            )

    assert reason("010-1234-5678", "advertising") == "recipient opted out (advertising, via api)"
    assert reason(PHONE, "informational") is None
    assert reason("+821098765432", "advertising") is None
    assert reason("hong@example.com", "advertising", channel="email") is None
    opt_out(client, campaigns, phone=PHONE, scope="all")
    assert reason(PHONE, "informational") == "recipient opted out (all, via api)"
    assert reason(PHONE, "informational", campaign=False) is None


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"phone": PHONE, "email": "hong@example.com"}, ""),
        ({}, ""),
        ({"phone": "12"}, "/phone"),
        ({"email": "not-an-address"}, "/email"),
        ({"phone": PHONE, "scope": "everything"}, "/scope"),
        ({"phone": PHONE, "scope": None}, "/scope"),
        ({"phone": PHONE, "source": "carrier_pigeon"}, "/source"),
        ({"phone": PHONE, "center": "atlantis"}, "/center"),
        ({"phone": PHONE, "unexpected": 1}, "/unexpected"),
    ],
)
def test_invalid_opt_outs_are_named_by_json_pointer_and_change_nothing(
    client, campaigns, ctx, body, pointer
) -> None:
    pending = pending_message(ctx)
    assert_problem(opt_out(client, campaigns, **body), 422, pointer)
    assert count(ctx) == 0
    assert message(ctx, pending)["status"] == "queued"


def test_opt_outs_need_the_campaigns_scope_and_a_json_body(client, make_key, ctx) -> None:
    body = {"phone": PHONE, "scope": "all"}
    assert_problem(client.post("/v1/opt-outs", json=body), 401)
    assert_problem(client.post("/v1/opt-outs", json=body, headers={"Authorization": "Bearer ntf_nope"}), 401)
    send_only = {"Authorization": f"Bearer {make_key('send')}"}
    assert_problem(client.post("/v1/opt-outs", json=body, headers=send_only), 403)
    campaigns = {"Authorization": f"Bearer {make_key('campaigns', name='crm')}"}
    as_text = {**campaigns, "Content-Type": "text/plain"}
    assert_problem(client.post("/v1/opt-outs", data="phone=010", headers=as_text), 415)
    as_json = {**campaigns, "Content-Type": "application/json"}
    assert_problem(client.post("/v1/opt-outs", data="{oops", headers=as_json), 400)
    assert count(ctx) == 0


def test_the_answer_matches_the_documented_schema(client, campaigns) -> None:
    from jsonschema import Draft202012Validator

    spec = client.get("/openapi.json").json
    schema = {"$ref": "#/components/schemas/OptOut", "components": spec["components"]}
    Draft202012Validator(schema).validate(opt_out(client, campaigns, phone=PHONE, center="seosan").json)
    Draft202012Validator(schema).validate(opt_out(client, campaigns, phone=PHONE).json)


def test_a_number_too_short_for_e164_is_a_422_not_a_server_error(client, campaigns, ctx) -> None:
    # phonenumbers' metadata calls '+98 9699' valid; E.164 needs at least 7 digits after the +.
    response = opt_out(client, campaigns, phone="+(989699", scope="advertising", source="email_reply")
    assert_problem(response, 422, "/phone")
    assert count(ctx) == 0
