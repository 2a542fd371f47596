"""POST/GET /v1/messages: what a client sees, and that bad input changes nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from notifier.api.problems import MAX_JSON_DEPTH
from notifier.messages.sending import deliver
from notifier.messages.tables import idempotency_keys, message_events, messages
from tests.factories import KOREAN_MORNING, FrozenClock, email_body, message_body

PROBLEM = "application/problem+json"
SEOUL = ZoneInfo("Asia/Seoul")


def count(ctx, table=messages) -> int:
    with ctx.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def assert_problem(response, status, *pointers):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.json
    assert body["status"] == status and body["title"] and body["detail"]
    if pointers:
        assert {e["pointer"] for e in body["errors"]} >= set(pointers), body["errors"]
    return body


def test_accepts_a_message_and_answers_with_id_status_channel_recipient_and_segments(
    client, auth, ctx
) -> None:
    response = client.post("/v1/messages", json=message_body(reference="booking-77"), headers=auth)
    assert response.status_code == 202
    body = response.json
    assert body["status"] == "queued"
    assert body["channel"] == "sms"
    assert body["to"]["phone"] == "+821012345678"
    assert body["segments"] >= 1
    assert body["kr_class"] in ("SMS", "LMS")
    assert body["reference"] == "booking-77"
    assert body["template"] == {"key": "appointment_confirmation", "version": 1}
    assert count(ctx) == 1


@pytest.mark.parametrize(
    "phone", ["010-1234-5678", "01012345678", "010 1234 5678", "+82 10-1234-5678", "+821012345678"]
)
def test_korean_mobile_formats_are_normalised_to_e164(client, auth, phone) -> None:
    body = message_body(to={"phone": phone})
    assert client.post("/v1/messages", json=body, headers=auth).json["to"]["phone"] == "+821012345678"


def test_auto_channel_prefers_sms_to_a_mobile_and_falls_back_to_email(client, auth) -> None:
    both = message_body(channel="auto", to={"phone": "010-1234-5678", "email": "a@example.com"})
    assert client.post("/v1/messages", json=both, headers=auth).json["channel"] == "sms"
    landline = message_body(channel="auto", to={"phone": "044-202-7369", "email": "a@example.com"})
    assert client.post("/v1/messages", json=landline, headers=auth).json["channel"] == "email"


def test_landline_for_sms_is_a_clear_422(client, auth, ctx) -> None:
    response = client.post("/v1/messages", json=message_body(to={"phone": "044-202-7369"}), headers=auth)
    body = assert_problem(response, 422, "/to/phone")
    assert "mobile" in body["detail"]
    assert count(ctx) == 0


def test_auto_to_a_landline_without_email_says_the_number_is_not_a_mobile(client, auth, ctx) -> None:
    landline = message_body(channel="auto", to={"phone": "044-202-7369"})
    body = assert_problem(client.post("/v1/messages", json=landline, headers=auth), 422, "/to/phone")
    assert "044-202-7369 is not a mobile number" in body["detail"]
    assert "email address" in body["detail"]
    nobody = message_body(channel="auto", to={"name": "홍길동"})
    assert_problem(client.post("/v1/messages", json=nobody, headers=auth), 422, "/to")
    email_only = message_body(channel="email", to={"phone": "010-1234-5678"})
    body = assert_problem(client.post("/v1/messages", json=email_only, headers=auth), 422, "/to/email")
    assert body["detail"] == "/to/email: an email address is required for email"
    assert count(ctx) == 0


def test_missing_template_values_are_listed_and_nothing_is_half_rendered(client, auth, ctx) -> None:
    response = client.post(
        "/v1/messages", json=message_body(data={"appointment": {"kind": "other"}}), headers=auth
    )
    body = assert_problem(response, 422, "/data/appointment/when", "/data/appointment/location")
    assert "appointment.when" in body["detail"] or "appointment/when" in body["detail"]
    assert body["title"] == "Missing template values"
    assert "missing template values" not in body["detail"].lower()  # not said twice
    assert count(ctx) == 0


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"template": "no_such_template"}, "/template"),
        ({"channel": "fax"}, "/channel"),
        ({"send_at": "2026-12-01T09:00:00"}, "/send_at"),
        ({"to": {"phone": "12"}}, "/to/phone"),
        ({"to": {"email": "not-an-address"}, "channel": "email"}, "/to/email"),
        ({"unexpected": 1}, "/unexpected"),
        ({"reference": "x" * 201}, "/reference"),
        ({"center": {"sms_sender": "hello"}}, "/center/sms_sender"),
    ],
)
def test_invalid_fields_are_named_by_json_pointer(client, auth, ctx, change, pointer) -> None:
    assert_problem(client.post("/v1/messages", json=message_body(**change), headers=auth), 422, pointer)
    assert count(ctx) == 0
    assert count(ctx, message_events) == 0


def test_an_sms_carrying_characters_handsets_cannot_show_is_refused(client, auth, ctx) -> None:
    body = message_body(to={"phone": "010-1234-5678", "name": "홍길동😀"})
    response = client.post("/v1/messages", json=body, headers=auth)
    assert "😀" in assert_problem(response, 422)["detail"]
    assert count(ctx) == 0


def test_malformed_json_wrong_type_and_too_large_bodies(client, auth, ctx) -> None:
    assert_problem(
        client.post("/v1/messages", data="{not json", headers={**auth, "Content-Type": "application/json"}),
        400,
    )
    assert_problem(
        client.post("/v1/messages", data="[1]", headers={**auth, "Content-Type": "application/json"}), 400
    )
    assert_problem(
        client.post("/v1/messages", data="template=x", headers={**auth, "Content-Type": "text/plain"}), 415
    )
    huge = message_body(data={"pad": "x" * (ctx.settings.max_body_bytes + 10)})
    assert_problem(client.post("/v1/messages", json=huge, headers=auth), 413)
    assert count(ctx) == 0


def nested(depth: int) -> dict:
    value: dict = {"v": 1}
    for _ in range(depth - 1):
        value = {"v": value}
    return value


@pytest.mark.parametrize(
    "body",
    [
        "[" * 100_000,  # json.loads itself overflows
        json.dumps(message_body(data={**message_body()["data"], "deep": nested(900)})),  # later code would
    ],
    ids=["unparseable", "parseable"],
)
def test_deeply_nested_json_is_a_400_not_a_crash(client, auth, ctx, body) -> None:
    response = client.post("/v1/messages", data=body, headers={**auth, "Content-Type": "application/json"})
    assert "deep" in assert_problem(response, 400)["detail"]
    assert count(ctx) == 0


def test_json_nested_up_to_the_limit_is_accepted(client, auth) -> None:
    def body(depth: int) -> dict:  # the body, "data" and "deep" are the first three levels
        return message_body(data={**message_body()["data"], "deep": nested(depth - 2)})

    assert client.post("/v1/messages", json=body(MAX_JSON_DEPTH), headers=auth).status_code == 202
    assert client.post("/v1/messages", json=body(MAX_JSON_DEPTH + 1), headers=auth).status_code == 400


def test_missing_unknown_and_underscoped_keys(client, make_key, ctx) -> None:
    body = message_body()
    assert_problem(client.post("/v1/messages", json=body), 401)
    assert_problem(client.post("/v1/messages", json=body, headers={"Authorization": "Bearer ntf_nope"}), 401)
    assert_problem(client.post("/v1/messages", json=body, headers={"Authorization": "Basic abc"}), 401)
    campaigns_only = {"Authorization": f"Bearer {make_key('campaigns')}"}
    assert_problem(client.post("/v1/messages", json=body, headers=campaigns_only), 403)
    admin = {"Authorization": f"Bearer {make_key('admin', name='ops')}"}
    assert client.post("/v1/messages", json=body, headers=admin).status_code == 202
    assert count(ctx) == 1


def test_keys_are_stored_only_as_hashes(ctx, make_key) -> None:
    from notifier.keys.tables import api_keys

    key = make_key("send")
    with ctx.engine.connect() as conn:
        stored = conn.execute(select(api_keys)).mappings().one()
    assert key not in str(dict(stored))
    assert stored["key_hash"] != key and len(stored["key_hash"]) == 64


def test_idempotency_key_replays_the_first_answer_and_creates_nothing(client, auth, ctx) -> None:
    headers = {**auth, "Idempotency-Key": "booking-77-confirmation"}
    first = client.post("/v1/messages", json=message_body(), headers=headers)
    again = client.post("/v1/messages", json=message_body(), headers=headers)
    assert first.status_code == again.status_code == 202
    assert first.json == again.json
    assert count(ctx) == 1
    different = client.post("/v1/messages", json=message_body(reference="other"), headers=headers)
    assert_problem(different, 422)
    assert count(ctx) == 1
    assert count(ctx, idempotency_keys) == 1


def test_idempotency_keys_belong_to_one_client(client, make_key, ctx) -> None:
    a = {"Authorization": f"Bearer {make_key('send', name='a')}", "Idempotency-Key": "same"}
    b = {"Authorization": f"Bearer {make_key('send', name='b')}", "Idempotency-Key": "same"}
    assert client.post("/v1/messages", json=message_body(), headers=a).status_code == 202
    assert client.post("/v1/messages", json=message_body(reference="b"), headers=b).status_code == 202
    assert count(ctx) == 2


def test_future_send_at_waits_in_the_database(client, auth) -> None:
    later = (datetime.now(UTC) + timedelta(hours=3)).astimezone().isoformat()
    body = client.post("/v1/messages", json=message_body(send_at=later), headers=auth).json
    assert body["status"] == "scheduled"
    assert datetime.fromisoformat(body["send_at"]) == datetime.fromisoformat(later)


@pytest.mark.parametrize(
    "send_at",
    ["2020-12-10T10:00:00+09:00", (KOREAN_MORNING - timedelta(hours=24)).isoformat()],
    ids=["years-ago", "a-day-ago"],
)
def test_a_send_at_past_the_validity_window_is_a_422_and_stores_nothing(client, auth, ctx, send_at) -> None:
    ctx.clock = FrozenClock(KOREAN_MORNING)
    key = {"Idempotency-Key": "late-1", **auth}
    late = client.post("/v1/messages", json=message_body(send_at=send_at), headers=key)
    body = assert_problem(late, 422, "/send_at")
    assert "has passed" in body["errors"][0]["detail"]
    assert count(ctx) == count(ctx, message_events) == count(ctx, idempotency_keys) == 0


def test_a_send_at_a_minute_in_the_past_is_sent_at_once(client, auth, ctx, twilio) -> None:
    ctx.clock = FrozenClock(KOREAN_MORNING)
    a_minute_ago = (KOREAN_MORNING - timedelta(minutes=1)).astimezone(SEOUL).isoformat()
    accepted = client.post("/v1/messages", json=message_body(send_at=a_minute_ago), headers=auth)
    assert accepted.status_code == 202, accepted.json
    assert accepted.json["status"] == "queued"
    assert deliver(ctx, accepted.json["id"]).status == "sent"
    shown = client.get(f"/v1/messages/{accepted.json['id']}", headers=auth).json
    assert [h["status"] for h in shown["history"]] == ["queued", "sending", "sent"]
    assert [m.to for m in twilio.messages] == ["+821012345678"]


def test_get_shows_status_history_and_hides_other_clients_messages(client, auth, make_key) -> None:
    created = client.post("/v1/messages", json=email_body(), headers=auth).json
    shown = client.get(f"/v1/messages/{created['id']}", headers=auth).json
    assert shown["channel"] == "email"
    assert [h["status"] for h in shown["history"]] == ["queued"]
    assert shown["to"]["email"] == "hong@example.com"
    stranger = {"Authorization": f"Bearer {make_key('send', name='stranger')}"}
    assert_problem(client.get(f"/v1/messages/{created['id']}", headers=stranger), 404)
    assert_problem(client.get("/v1/messages/00000000-0000-0000-0000-000000000000", headers=auth), 404)


def test_list_is_cursor_paged_and_filtered(client, auth) -> None:
    ids = [
        client.post("/v1/messages", json=message_body(reference=f"r{i % 2}"), headers=auth).json["id"]
        for i in range(5)
    ]
    seen, cursor = [], None
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/messages", query_string=query, headers=auth).json
        seen += [m["id"] for m in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids) and len(seen) == 5
    only = client.get("/v1/messages", query_string={"reference": "r1"}, headers=auth).json["items"]
    assert len(only) == 2
    assert client.get("/v1/messages", query_string={"status": "queued"}, headers=auth).json["items"]
    assert_problem(client.get("/v1/messages", query_string={"status": "lost"}, headers=auth), 422, "/status")
    assert_problem(client.get("/v1/messages", query_string={"cursor": "!!"}, headers=auth), 422, "/cursor")
    assert_problem(client.get("/v1/messages", query_string={"limit": 0}, headers=auth), 422, "/limit")


def test_unknown_routes_and_methods_are_problems_too(client, auth) -> None:
    assert_problem(client.get("/v1/nothing-here", headers=auth), 404)
    assert_problem(client.delete("/v1/messages", headers=auth), 405)


def test_senders_must_be_registered(client, auth, ctx) -> None:
    unregistered = message_body(
        center={"name": "가짜센터", "phone": "02-123-4567", "sms_sender": "02-999-9999"}
    )
    assert_problem(client.post("/v1/messages", json=unregistered, headers=auth), 422, "/center/sms_sender")
    overriding = message_body(center={"code": "seosan", "sms_sender": "054-440-3396"})
    assert_problem(client.post("/v1/messages", json=overriding, headers=auth), 422, "/center/sms_sender")
    spoofed = email_body(center={"name": "센터", "email_sender": "ceo@bank.example"})
    assert_problem(client.post("/v1/messages", json=spoofed, headers=auth), 422, "/center/email_sender")
    assert count(ctx) == 0
    registered_elsewhere = message_body(
        center={"name": "구미", "phone": "054-440-3396", "sms_sender": "054-440-3396"}
    )
    assert client.post("/v1/messages", json=registered_elsewhere, headers=auth).status_code == 202


def test_cursors_with_naive_times_and_sends_too_far_ahead_are_422(client, auth) -> None:
    import base64

    naive = base64.urlsafe_b64encode(b"2026-01-01T00:00:00|x").decode().rstrip("=")
    assert_problem(client.get("/v1/messages", query_string={"cursor": naive}, headers=auth), 422, "/cursor")
    far = message_body(send_at="9999-12-31T23:59:59+00:00")
    assert_problem(client.post("/v1/messages", json=far, headers=auth), 422, "/send_at")


def test_query_parameters_the_document_does_not_name_are_ignored(client, auth, make_key) -> None:
    sent = client.post("/v1/messages", json=message_body(reference="booking-1"), headers=auth)
    assert sent.status_code == 202, sent.json
    listed = client.get("/v1/messages?reference=booking-1&utm_source=mail&_=1733300000", headers=auth)
    assert listed.status_code == 200, listed.json
    assert [m["id"] for m in listed.json["items"]] == [sent.json["id"]]
    campaigns = {"Authorization": f"Bearer {make_key('campaigns', 'appointments')}"}
    assert client.get("/v1/campaigns?limit=5&utm_source=mail", headers=campaigns).status_code == 200
    assert client.get("/v1/appointments?limit=5&utm_source=mail", headers=campaigns).status_code == 200


def test_a_cursor_the_api_did_not_return_is_a_422_the_document_states(client, auth) -> None:
    response = client.get("/v1/messages?cursor=not-ours", headers=auth)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert [e["pointer"] for e in response.json["errors"]] == ["/cursor"]
    parameters = client.get("/openapi.json").json["paths"]["/v1/messages"]["get"]["parameters"]
    cursor = next(p for p in parameters if p["name"] == "cursor")
    assert "pass a `next_cursor` this API returned" in cursor["description"]
