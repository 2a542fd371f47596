"""Campaigns through the API: the validation report, every refusal, test send, start, cancel."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from notifier.campaigns.render import MAX_TEST_MESSAGES
from notifier.campaigns.tables import campaign_recipients, campaign_rejections, campaigns
from notifier.messages import scheduler
from notifier.messages.sending import deliver_many
from notifier.messages.tables import messages
from notifier.staff.tables import audit_log
from tests.console import make_staff, sign_in
from tests.integration.test_delivery import FrozenClock
from tests.integration.test_keys_api import rows

TEMPLATE = "program_announcement_jobseekers"
OPT_OUT = "080-123-4567"


@pytest.fixture
def admin(make_key):
    return {"Authorization": f"Bearer {make_key('campaigns', name='admin', owner='seosan-admin')}"}


def campaign(**changes):
    body = {
        "name": "12월 도약보장패키지 안내",
        "template": TEMPLATE,
        "category": "informational",
        "center": "seosan",
        "channel": "sms",
        "recipients": [{"phone": "010-2345-6789", "name": "홍길동"}],
    }
    body.update(changes)
    return body


def create(client, admin, body):
    response = client.post("/v1/campaigns", json=body, headers=admin)
    assert response.status_code == 201, response.json
    return response.json


def count(ctx, table, *where):
    with ctx.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def campaign_messages(ctx, campaign_id):
    with ctx.engine.connect() as conn:
        return list(conn.execute(select(messages).where(messages.c.campaign_id == campaign_id)).mappings())


def send_all(ctx, campaign_id):
    ids = [m["id"] for m in campaign_messages(ctx, campaign_id) if m["status"] == "queued"]
    return deliver_many(ctx, ids)


def put_recipient(client, admin, external_id, **fields):
    response = client.put(f"/v1/recipients/{external_id}", json=fields, headers=admin)
    assert response.status_code in (200, 201), response.json


CONSENTED = {"sms_advertising": {"given_at": "2026-01-05T10:00:00+09:00"}}


def test_the_report_says_what_will_be_sent_before_anything_is(client, admin, ctx) -> None:
    report = create(
        client,
        admin,
        campaign(
            channel="auto",
            recipients=[
                {"phone": "010-2345-6789", "name": "홍길동"},
                {"phone": "01023456789", "name": "홍길동"},  # the same person, written differently
                {"phone": "044-202-7369"},  # a landline cannot get SMS
                {"email": "kim@example.com", "name": "김영희"},
                {"phone": "12"},
                {"name": "주소 없음"},
                {"email": "not-an-address"},
            ],
        ),
    )
    assert report["status"] == "draft"
    assert report["counts"] == {}
    got = report["report"]
    assert got["rows"] == 7
    assert got["usable"] == 2
    assert got["duplicates_merged"] == 1
    assert got["rejected"]["count"] == 4
    reasons = {item["row"]: item["reason"] for item in got["rejected"]["items"]}
    assert set(reasons) == {2, 4, 5, 6}
    assert "not a mobile number" in reasons[2]
    assert "too short" in reasons[4]
    assert reasons[5] == "no mobile number or email address"
    assert reasons[6].startswith("email:")
    assert (got["sms"], got["lms"], got["email"]) == (0, 1, 1)
    assert got["segments"] >= 3  # a Korean LMS is UCS-2: 67 characters a segment
    assert count(ctx, messages) == 0


def test_a_row_without_the_address_its_channel_needs_says_which_address(client, admin) -> None:
    people = [{"email": "kim@example.com"}, {"phone": "010-2345-6789"}]
    sms = create(client, admin, campaign(recipients=people))["report"]["rejected"]["items"]
    email = create(client, admin, campaign(channel="email", recipients=people))["report"]["rejected"]["items"]
    assert [item["reason"] for item in sms] == ["no mobile number"]
    assert [item["reason"] for item in email] == ["no email address"]


def test_campaigns_are_listed_newest_first_a_page_at_a_time_and_only_the_owners(
    client, admin, make_key
) -> None:
    first = create(client, admin, campaign(name="첫째"))["id"]
    second = create(client, admin, campaign(name="둘째"))["id"]
    other = {"Authorization": f"Bearer {make_key('campaigns', name='other', owner='gumi-admin')}"}
    create(client, other, campaign(name="다른 센터"))
    page = client.get("/v1/campaigns?limit=1", headers=admin).json
    assert [item["id"] for item in page["items"]] == [second]
    rest = client.get("/v1/campaigns", query_string={"cursor": page["next_cursor"]}, headers=admin).json
    assert [item["id"] for item in rest["items"]] == [first]
    assert rest["next_cursor"] is None
    assert rest["items"][0]["status"] == "draft" and rest["items"][0]["name"] == "첫째"


def test_advertising_leaves_out_the_unconsented_and_the_opted_out(client, admin, ctx) -> None:
    put_recipient(client, admin, "r1", phone="010-2345-0001", consents=CONSENTED)
    put_recipient(client, admin, "r2", phone="010-2345-0002", consents=CONSENTED)
    put_recipient(client, admin, "r3", phone="010-2345-0003")  # stored, but never agreed
    response = client.post(
        "/v1/opt-outs", json={"phone": "010-2345-0002", "scope": "advertising"}, headers=admin
    )
    assert response.status_code == 201, response.json
    people = ["010-2345-0001", "010-2345-0002", "010-2345-0003", "010-2345-0004"]
    body = campaign(category="advertising", opt_out_number=OPT_OUT, recipients=[{"phone": p} for p in people])
    got = create(client, admin, body)["report"]
    assert (got["usable"], got["excluded_opted_out"], got["excluded_no_consent"]) == (1, 1, 2)


def test_informational_campaign_leaves_out_only_those_who_opted_out_of_everything(client, admin) -> None:
    client.post("/v1/opt-outs", json={"phone": "010-2345-0002", "scope": "advertising"}, headers=admin)
    client.post("/v1/opt-outs", json={"phone": "010-2345-0003", "scope": "all"}, headers=admin)
    body = campaign(recipients=[{"phone": f"010-2345-000{i}"} for i in (1, 2, 3)])
    got = create(client, admin, body)["report"]
    assert (got["usable"], got["excluded_opted_out"], got["excluded_no_consent"]) == (2, 1, 0)


def test_a_filter_picks_stored_recipients_by_center_and_tags(client, admin) -> None:
    put_recipient(client, admin, "a", phone="010-3456-0001", center="seosan", tags=["youth", "2026"])
    put_recipient(client, admin, "b", phone="010-3456-0002", center="seosan", tags=["youth"])
    put_recipient(client, admin, "c", phone="010-3456-0003", center="gumi", tags=["youth", "2026"])
    body = campaign(recipients=None, filter={"center": "seosan", "tags": ["youth", "2026"]})
    body.pop("recipients")
    got = create(client, admin, body)
    assert got["source"] == "filter"
    assert got["report"]["usable"] == 1


INVALID = [
    ({"category": None}, "/category"),
    ({"category": "promotion"}, "/category"),
    ({"template": "no_such_template"}, "/template"),
    ({"center": "nowhere"}, "/center"),
    ({"category": "advertising"}, "/opt_out_number"),
    ({"category": "advertising", "opt_out_number": "041-661-5676"}, "/opt_out_number"),
    ({"opt_out_number": "12"}, "/opt_out_number"),
    ({"filter": {"center": "seosan"}}, "/recipients"),
    ({"recipients": None}, "/recipients"),
    ({"channel": "fax"}, "/channel"),
    ({"rate_per_second": 0}, "/rate_per_second"),
    ({"recipients": [{"phone": "010-2345-6789", "age": 3}]}, "/recipients/0/age"),
    ({"surprise": True}, "/surprise"),
]


@pytest.mark.parametrize(("changes", "pointer"), INVALID)
def test_an_invalid_campaign_is_a_422_naming_the_field_and_stores_nothing(
    client, admin, ctx, changes, pointer
) -> None:
    body = campaign(**changes)
    body = {k: v for k, v in body.items() if v is not None}
    response = client.post("/v1/campaigns", json=body, headers=admin)
    assert response.status_code == 422, response.json
    assert pointer in [e["pointer"] for e in response.json["errors"]]
    assert count(ctx, campaigns) == 0
    assert count(ctx, campaign_recipients) == 0


def test_refusals_before_validation(client, admin, make_key, ctx) -> None:
    assert client.post("/v1/campaigns", json=campaign()).status_code == 401
    sender = {"Authorization": f"Bearer {make_key('send')}"}
    assert client.post("/v1/campaigns", json=campaign(), headers=sender).status_code == 403
    plain = client.post("/v1/campaigns", data="hello", headers={**admin, "Content-Type": "text/plain"})
    assert plain.status_code == 415
    broken = client.post("/v1/campaigns", data="{", headers={**admin, "Content-Type": "application/json"})
    assert broken.status_code == 400
    huge = campaign(data={"deadline": "x" * (ctx.settings.max_body_bytes + 1)})
    assert client.post("/v1/campaigns", json=huge, headers=admin).status_code == 413
    assert client.get("/v1/campaigns/nope", headers=admin).status_code == 404
    assert count(ctx, campaigns) == 0


def test_another_owner_cannot_see_or_touch_a_campaign(client, admin, make_key) -> None:
    campaign_id = create(client, admin, campaign())["id"]
    other = {"Authorization": f"Bearer {make_key('campaigns', name='other', owner='gumi-admin')}"}
    for method, path in [
        ("get", ""),
        ("get", "/messages"),
        ("get", "/rejections.csv"),
        ("post", "/start"),
        ("post", "/cancel"),
    ]:
        response = getattr(client, method)(f"/v1/campaigns/{campaign_id}{path}", headers=other)
        assert response.status_code == 404, (method, path)
    test = client.post(f"/v1/campaigns/{campaign_id}/test", json={"phone": "010-9876-5432"}, headers=other)
    assert test.status_code == 404
    assert client.get(f"/v1/campaigns/{campaign_id}", headers=admin).json["status"] == "draft"


def test_a_test_send_goes_to_the_admin_now_with_the_markings(client, admin, ctx, twilio, smtp) -> None:
    ctx.clock = FrozenClock(datetime(2026, 12, 1, 2, 0, tzinfo=UTC))  # daytime in Korea
    put_recipient(client, admin, "r1", phone="010-2345-0001", consents=CONSENTED)
    body = campaign(
        category="advertising",
        channel="auto",
        opt_out_number=OPT_OUT,
        recipients=[{"phone": "010-2345-0001"}],
    )
    campaign_id = create(client, admin, body)["id"]
    response = client.post(
        f"/v1/campaigns/{campaign_id}/test",
        json={"phone": "010-9876-5432", "email": "admin@seosan.example.kr"},
        headers=admin,
    )
    assert response.status_code == 202, response.json
    items = response.json["items"]
    assert {i["channel"] for i in items} == {"sms", "email"}
    assert {i["reference"] for i in items} == {f"campaign-test:{campaign_id}"}
    with ctx.engine.connect() as conn:
        rows = list(
            conn.execute(select(messages).where(messages.c.reference == f"campaign-test:{campaign_id}"))
        )
    assert {r.lane for r in rows} == {"transactional"}
    assert {r.campaign_id for r in rows} == {None}  # not counted as campaign messages
    assert deliver_many(ctx, [r.id for r in rows]) == 2
    assert twilio.messages[0].body.startswith("(광고)")
    [mail] = smtp.wait_for_messages(1)
    assert mail.message["Subject"].startswith("(광고)")
    assert mail.message["List-Unsubscribe"].startswith("<http://")
    assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert client.get(f"/v1/campaigns/{campaign_id}", headers=admin).json["status"] == "draft"


@pytest.mark.parametrize(
    ("body", "pointer"),
    [({}, ""), ({"phone": "044-202-7369"}, "/phone"), ({"email": "nope"}, "/email"), ({"fax": "1"}, "/fax")],
)
def test_a_bad_test_send_is_a_422_and_sends_nothing(client, admin, ctx, body, pointer) -> None:
    campaign_id = create(client, admin, campaign())["id"]
    response = client.post(f"/v1/campaigns/{campaign_id}/test", json=body, headers=admin)
    assert response.status_code == 422
    assert pointer in [e["pointer"] for e in response.json["errors"]]
    assert count(ctx, messages) == 0


def test_start_is_for_drafts_only_and_needs_an_offset(client, admin, ctx) -> None:
    campaign_id = create(client, admin, campaign())["id"]
    naive = client.post(
        f"/v1/campaigns/{campaign_id}/start", json={"at": "2026-12-24T10:00:00"}, headers=admin
    )
    assert naive.status_code == 422
    assert naive.json["errors"][0]["pointer"] == "/at"
    assert client.get(f"/v1/campaigns/{campaign_id}", headers=admin).json["status"] == "draft"
    assert client.post(f"/v1/campaigns/{campaign_id}/start", headers=admin).status_code == 200
    again = client.post(f"/v1/campaigns/{campaign_id}/start", headers=admin)
    assert again.status_code == 409
    empty = create(client, admin, campaign(recipients=[{"phone": "12"}]))
    assert client.post(f"/v1/campaigns/{empty['id']}/start", headers=admin).status_code == 409


def test_a_campaign_started_for_later_waits_for_its_time(client, admin, ctx) -> None:
    clock = FrozenClock(datetime(2026, 12, 1, 1, 0, tzinfo=UTC))
    ctx.clock = clock
    campaign_id = create(client, admin, campaign())["id"]
    at = "2026-12-01T14:00:00+09:00"
    started = client.post(f"/v1/campaigns/{campaign_id}/start", json={"at": at}, headers=admin)
    assert started.json["status"] == "scheduled"
    assert started.json["send_at"] == "2026-12-01T05:00:00Z"
    scheduler.tick(ctx)
    assert campaign_messages(ctx, campaign_id) == []
    clock.advance(4 * 3600)
    assert scheduler.tick(ctx).extra["campaigns_started"] == 1
    assert [m["status"] for m in campaign_messages(ctx, campaign_id)] == ["queued"]


def test_cancel_stops_what_was_not_sent_and_keeps_what_was(client, admin, ctx, twilio) -> None:
    people = [{"phone": f"010-5678-{i:04d}"} for i in range(10)]
    campaign_id = create(client, admin, campaign(recipients=people))["id"]
    client.post(f"/v1/campaigns/{campaign_id}/start", headers=admin)
    queued = [m["id"] for m in campaign_messages(ctx, campaign_id)]
    deliver_many(ctx, queued[:3])
    cancelled = client.post(f"/v1/campaigns/{campaign_id}/cancel", headers=admin)
    assert cancelled.status_code == 200
    assert cancelled.json["status"] == "cancelled"
    assert cancelled.json["counts"] == {"sent": 3, "cancelled": 7}
    assert deliver_many(ctx, queued) == 0  # the rest of the queue finds nothing to send
    assert len(twilio.messages) == 3
    assert client.post(f"/v1/campaigns/{campaign_id}/cancel", headers=admin).status_code == 409
    assert client.post(f"/v1/campaigns/{campaign_id}/start", headers=admin).status_code == 409
    scheduler.tick(ctx)  # nothing fans out for a cancelled campaign
    assert len(campaign_messages(ctx, campaign_id)) == 10


def test_messages_are_listed_a_page_at_a_time(client, admin, ctx) -> None:
    people = [{"phone": f"010-7890-{i:04d}"} for i in range(7)]
    campaign_id = create(client, admin, campaign(recipients=people))["id"]
    client.post(f"/v1/campaigns/{campaign_id}/start", headers=admin)
    seen, cursor = [], None
    while True:
        query = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = client.get(f"/v1/campaigns/{campaign_id}/messages", query_string=query, headers=admin).json
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 7
    queued = client.get(f"/v1/campaigns/{campaign_id}/messages?status=queued", headers=admin).json
    assert len(queued["items"]) == 7
    bad = client.get(f"/v1/campaigns/{campaign_id}/messages?limit=0", headers=admin)
    assert bad.status_code == 422
    assert bad.json["errors"][0]["pointer"] == "/limit"


def test_every_rejection_is_in_the_csv(client, admin, ctx) -> None:
    people = [{"phone": "1"} for _ in range(150)] + [{"phone": "010-2345-6789"}]
    got = create(client, admin, campaign(recipients=people))
    assert got["report"]["rejected"]["count"] == 150
    assert len(got["report"]["rejected"]["items"]) == 100
    response = client.get(f"/v1/campaigns/{got['id']}/rejections.csv", headers=admin)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0] == "row,reason,raw"
    assert len(lines) == 151
    assert lines[1].startswith("0,")
    assert count(ctx, campaign_rejections) == 150


def test_campaign_responses_match_the_documented_schemas(client, admin) -> None:
    from jsonschema import Draft202012Validator

    spec = client.get("/openapi.json").json

    def check(name, body):
        schema = {"$ref": f"#/components/schemas/{name}", "components": spec["components"]}
        Draft202012Validator(schema).validate(body)

    created = create(client, admin, campaign(recipients=[{"phone": "010-2345-6789"}, {"phone": "1"}]))
    check("Campaign", created)
    campaign_id = created["id"]
    tested = client.post(f"/v1/campaigns/{campaign_id}/test", json={"phone": "010-9876-5432"}, headers=admin)
    check("CampaignTestSend", tested.json)
    check("Campaign", client.post(f"/v1/campaigns/{campaign_id}/start", headers=admin).json)
    check("MessageList", client.get(f"/v1/campaigns/{campaign_id}/messages", headers=admin).json)
    check("Campaign", client.post(f"/v1/campaigns/{campaign_id}/cancel", headers=admin).json)
    check("Problem", client.post(f"/v1/campaigns/{campaign_id}/cancel", headers=admin).json)


def test_a_campaign_sends_only_a_few_test_messages_so_tests_cannot_carry_the_announcement(
    client, admin, ctx, twilio
) -> None:
    campaign_id = create(client, admin, campaign())["id"]
    for n in range(MAX_TEST_MESSAGES // 2):  # a phone and an email each time
        body = {"phone": f"010-9876-{n:04d}", "email": f"staff{n}@seosan.example.kr"}
        assert client.post(f"/v1/campaigns/{campaign_id}/test", json=body, headers=admin).status_code == 202
    before = count(ctx, messages)

    more = client.post(f"/v1/campaigns/{campaign_id}/test", json={"phone": "010-9876-9999"}, headers=admin)

    assert (more.status_code, more.mimetype) == (409, "application/problem+json")
    assert f"at most {MAX_TEST_MESSAGES} test messages" in more.json["detail"]
    assert count(ctx, messages) == before


def test_what_a_key_does_to_a_campaign_is_in_the_centres_audit_log(client, admin, ctx) -> None:
    made = create(client, admin, campaign(name="API로 만든 안내"))
    assert client.post(f"/v1/campaigns/{made['id']}/start", headers=admin).status_code == 200
    assert client.post(f"/v1/campaigns/{made['id']}/cancel", headers=admin).status_code == 200

    entries = [e for e in rows(ctx, audit_log) if e["object_id"] == made["id"]]
    assert [(e["actor"], e["action"], e["center_code"]) for e in entries] == [
        ("api key admin", "campaign_created", "seosan"),
        ("api key admin", "campaign_started", "seosan"),
        ("api key admin", "campaign_cancelled", "seosan"),
    ]
    make_staff(ctx, "boss@seosan.example.kr", role="manager")
    sign_in(client, "boss@seosan.example.kr")
    page = client.get("/console/audit").get_data(as_text=True)
    assert page.count("api key admin") == 3 and "API로 만든 안내" in page
