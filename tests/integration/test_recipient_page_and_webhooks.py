"""The person's page (/a/{token}) and the signed webhooks that report their answers."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from notifier.config import Settings
from notifier.errors import ConfigError
from notifier.messages.sending import deliver
from notifier.webhooks import service as webhooks
from notifier.webhooks.tables import webhooks as webhook_table
from tests.integration.test_appointments_api import booking


def page_path(appointment) -> str:
    return "/a/" + appointment["page_url"].rsplit("/a/", 1)[1]


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def verify(secret: str, received) -> dict:
    timestamp, signature = (
        part.split("=", 1)[1] for part in received.headers["Notifier-Signature"].split(",")
    )
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + received.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(signature, expected)
    return json.loads(received.body)


def test_the_page_shows_time_place_counselor_and_the_centres_phone(client, headers, clock) -> None:
    appointment = client.put("/v1/appointments/p1", json=booking(), headers=headers).json
    html = client.get(page_path(appointment)).get_data(as_text=True)
    assert '<html lang="ko">' in html
    for text in (
        "1:1 심층상담",
        "12월 3일(목) 오후 2시",
        "서산고용복지+센터 2층 상담실",
        "김상담",
        "041-661-5676",
        "참석 확인",
        "일정 변경 요청",
    ):
        assert text in html


def test_reminders_carry_the_personal_link(client, headers, clock, ctx, twilio) -> None:
    appointment = client.put("/v1/appointments/p2", json=booking(), headers=headers).json
    reminder = next(m for m in appointment["messages"] if m["purpose"] == "reminder")
    clock.now = datetime.fromisoformat(reminder["send_at"].replace("Z", "+00:00"))
    from notifier.messages.scheduler import dispatch_due

    dispatch_due(ctx)
    deliver(ctx, reminder["id"])
    # The SMS carries the page's short link (/s/{code}), which leads to the page itself.
    [short] = re.findall(r"https?://\S+/s/[A-Za-z0-9_\-]+", twilio.messages[-1].body)
    answer = client.get(short.split("/s/", 1)[0] and "/s/" + short.split("/s/", 1)[1])
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith("/a/" + appointment["page_url"].rsplit("/a/", 1)[1])


def test_answers_need_the_forms_csrf_token(client, headers, clock) -> None:
    appointment = client.put("/v1/appointments/p3", json=booking(), headers=headers).json
    client.get(page_path(appointment))
    forged = client.post(page_path(appointment) + "/confirm", data={"csrf_token": "made-up"})
    assert forged.status_code == 400
    assert client.get("/v1/appointments/p3", headers=headers).json["attendance"] is None


def test_confirming_attendance_is_stored_and_sent_as_a_signed_webhook(
    client, headers, clock, ctx, receiver
) -> None:
    secret = client.put(
        "/v1/webhooks", json={"url": receiver.url, "events": ["appointment.confirmed"]}, headers=headers
    ).json["secret"]
    appointment = client.put("/v1/appointments/p4", json=booking(), headers=headers).json
    token = csrf(client.get(page_path(appointment)).get_data(as_text=True))
    answered = client.post(page_path(appointment) + "/confirm", data={"csrf_token": token})
    assert answered.status_code == 303
    assert "참석 확인이 전달되었습니다" in client.get(answered.headers["Location"]).get_data(as_text=True)
    assert client.get("/v1/appointments/p4", headers=headers).json["attendance"] == "confirmed"
    assert webhooks.deliver_due(ctx) == 1
    [call] = receiver.wait_for(1)
    payload = verify(secret, call)
    assert payload["type"] == "appointment.confirmed"
    assert payload["data"]["external_id"] == "p4"
    assert call.headers["Notifier-Event"] == "appointment.confirmed"


def test_change_requests_reach_the_booking_system(client, headers, clock, ctx, receiver) -> None:
    secret = client.put(
        "/v1/webhooks",
        json={"url": receiver.url, "events": ["appointment.change_requested"]},
        headers=headers,
    ).json["secret"]
    appointment = client.put("/v1/appointments/p5", json=booking(), headers=headers).json
    token = csrf(client.get(page_path(appointment)).get_data(as_text=True))
    client.post(page_path(appointment) + "/change", data={"csrf_token": token})
    webhooks.deliver_due(ctx)
    assert verify(secret, receiver.wait_for(1)[0])["type"] == "appointment.change_requested"


def test_links_stop_working_after_the_appointment_and_cannot_be_forged(client, headers, clock) -> None:
    appointment = client.put("/v1/appointments/p6", json=booking(), headers=headers).json
    path = page_path(appointment)
    assert client.get(path[:-3] + "abc").status_code == 404
    assert client.get("/a/not-a-token").status_code == 404
    clock.now = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)  # after 14:00-14:50 in Seoul
    assert client.get(path).status_code == 410


def test_an_altered_link_answers_a_korean_page_not_json(client, headers, clock) -> None:
    appointment = client.put("/v1/appointments/p6a", json=booking(), headers=headers).json
    for path in (page_path(appointment)[:-3] + "abc", "/a/not-a-token"):
        answer = client.get(path)
        html = answer.get_data(as_text=True)
        assert (answer.status_code, answer.mimetype) == (404, "text/html")
        assert "잘못된 링크입니다" in html and '<html lang="ko">' in html
        assert "센터 번호로 전화해 주세요" in html
        assert answer.headers["Cache-Control"] == "no-store"


def test_an_expired_link_says_so_with_the_centres_phone(client, headers, clock) -> None:
    appointment = client.put("/v1/appointments/p6b", json=booking(), headers=headers).json
    clock.now = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)  # after 14:00-14:50 in Seoul
    for answer in (client.get(page_path(appointment)), client.post(page_path(appointment) + "/confirm")):
        html = answer.get_data(as_text=True)
        assert (answer.status_code, answer.mimetype) == (410, "text/html")
        assert "기간이 지난 링크입니다" in html
        assert "서산고용복지+센터 041-661-5676" in html and 'href="tel:+82416615676"' in html


def test_an_english_speakers_expired_link_is_explained_in_english(client, headers, clock) -> None:
    recipient = {"name": "Jane Doe", "phone": "010-1234-5678", "locale": "en"}
    appointment = client.put("/v1/appointments/p6c", json=booking(recipient=recipient), headers=headers).json
    clock.now = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)
    answer = client.get(page_path(appointment))
    html = answer.get_data(as_text=True)
    assert answer.status_code == 410 and '<html lang="en">' in html
    assert "This link has expired" in html and "Call the center 041-661-5676" in html


def test_answering_a_cancelled_appointment_says_it_was_cancelled(client, headers, clock) -> None:
    appointment = client.put("/v1/appointments/p6d", json=booking(), headers=headers).json
    token = csrf(client.get(page_path(appointment)).get_data(as_text=True))
    client.delete("/v1/appointments/p6d", headers=headers)
    answer = client.post(page_path(appointment) + "/confirm", data={"csrf_token": token})
    html = answer.get_data(as_text=True)
    assert (answer.status_code, answer.mimetype) == (409, "text/html")
    assert "취소된 예약입니다" in html and "041-661-5676" in html


def test_a_form_without_its_csrf_token_asks_to_open_the_page_again(client, headers, clock) -> None:
    appointment = client.put("/v1/appointments/p6e", json=booking(), headers=headers).json
    answer = client.post(page_path(appointment) + "/confirm", data={})
    html = answer.get_data(as_text=True)
    assert (answer.status_code, answer.mimetype) == (400, "text/html")
    assert "응답이 전달되지 않았습니다" in html and f'href="{page_path(appointment)}"' in html
    assert client.get("/v1/appointments/p6e", headers=headers).json["attendance"] is None


def test_a_cancelled_appointments_page_offers_no_buttons(client, headers, clock) -> None:
    appointment = client.put("/v1/appointments/p7", json=booking(), headers=headers).json
    client.delete("/v1/appointments/p7", headers=headers)
    html = client.get(page_path(appointment)).get_data(as_text=True)
    assert "취소되었습니다" in html
    assert "참석 확인</button>" not in html


def test_a_cancelled_appointment_cannot_be_answered(client, headers, clock, ctx, receiver) -> None:
    client.put(
        "/v1/webhooks", json={"url": receiver.url, "events": ["appointment.confirmed"]}, headers=headers
    )
    appointment = client.put("/v1/appointments/p8", json=booking(), headers=headers).json
    token = csrf(client.get(page_path(appointment)).get_data(as_text=True))
    client.delete("/v1/appointments/p8", headers=headers)
    answered = client.post(page_path(appointment) + "/confirm", data={"csrf_token": token})
    assert answered.status_code == 409
    assert client.get("/v1/appointments/p8", headers=headers).json["attendance"] is None
    assert webhooks.deliver_due(ctx) == 0


def test_an_unknown_answer_is_404(client, headers, clock) -> None:
    appointment = client.put("/v1/appointments/p9", json=booking(), headers=headers).json
    token = csrf(client.get(page_path(appointment)).get_data(as_text=True))
    assert client.post(page_path(appointment) + "/maybe", data={"csrf_token": token}).status_code == 404


def test_webhooks_are_retried_on_5xx_and_429_with_attempts_visible(
    client, headers, clock, ctx, receiver
) -> None:
    client.put(
        "/v1/webhooks", json={"url": receiver.url, "events": ["appointment.confirmed"]}, headers=headers
    )
    receiver.answer(500, 429)
    appointment = client.put("/v1/appointments/p8", json=booking(), headers=headers).json
    token = csrf(client.get(page_path(appointment)).get_data(as_text=True))
    client.post(page_path(appointment) + "/confirm", data={"csrf_token": token})
    for _ in range(3):
        webhooks.deliver_due(ctx)
        clock.advance(3600)
    assert len(receiver.wait_for(3)) == 3
    [delivery] = client.get("/v1/webhooks", headers=headers).json["deliveries"]
    assert (delivery["status"], delivery["attempts"], delivery["last_status_code"]) == ("delivered", 3, 200)


def test_webhooks_give_up_after_the_bound_and_4xx_fails_at_once(
    client, headers, clock, ctx, receiver
) -> None:
    client.put(
        "/v1/webhooks", json={"url": receiver.url, "events": ["appointment.confirmed"]}, headers=headers
    )
    receiver.answer(*[503] * webhooks.MAX_ATTEMPTS, 400)
    for external_id in ("p9", "p10"):
        appointment = client.put(f"/v1/appointments/{external_id}", json=booking(), headers=headers).json
        token = csrf(client.get(page_path(appointment)).get_data(as_text=True))
        client.post(page_path(appointment) + "/confirm", data={"csrf_token": token})
        for _ in range(webhooks.MAX_ATTEMPTS + 2):
            webhooks.deliver_due(ctx)
            clock.advance(4000)
    deliveries = client.get("/v1/webhooks", headers=headers).json["deliveries"]
    assert sorted((d["status"], d["attempts"]) for d in deliveries) == [
        ("failed", 1),
        ("failed", webhooks.MAX_ATTEMPTS),
    ]


def test_unreachable_webhooks_are_retried_too(client, headers, clock, ctx) -> None:
    client.put(
        "/v1/webhooks",
        json={"url": "http://127.0.0.1:9/hooks", "events": ["appointment.confirmed"]},
        headers=headers,
    )
    appointment = client.put("/v1/appointments/p11", json=booking(), headers=headers).json
    token = csrf(client.get(page_path(appointment)).get_data(as_text=True))
    client.post(page_path(appointment) + "/confirm", data={"csrf_token": token})
    webhooks.deliver_due(ctx)
    [delivery] = client.get("/v1/webhooks", headers=headers).json["deliveries"]
    assert delivery["status"] == "pending"
    assert "ConnectionError" in delivery["last_error"]


def test_message_status_changes_are_reported_to_subscribers(
    client, headers, auth, clock, ctx, receiver
) -> None:
    from tests.factories import message_body

    owner_headers = {**auth}
    client.put(
        "/v1/webhooks",
        json={"url": receiver.url, "events": ["message.status_changed"]},
        headers=owner_headers,
    )
    webhooks.emit_message_events(ctx)  # subscribing starts the feed at the present
    message_id = client.post("/v1/messages", json=message_body(reference="r-1"), headers=owner_headers).json[
        "id"
    ]
    deliver(ctx, message_id)
    assert webhooks.emit_message_events(ctx) == 0  # too fresh: a slower transaction may still commit
    clock.advance(webhooks.SETTLE.total_seconds() + 1)
    assert webhooks.emit_message_events(ctx) == 3  # queued, sending, sent
    webhooks.deliver_due(ctx)
    statuses = [json.loads(r.body)["data"]["status"] for r in receiver.wait_for(3)]
    assert sorted(statuses) == ["queued", "sending", "sent"]
    assert webhooks.emit_message_events(ctx) == 0


def test_webhook_registration_validates_and_shows_the_secret_once(client, headers) -> None:
    bad = client.put(
        "/v1/webhooks", json={"url": "ftp://x", "events": ["appointment.confirmed"]}, headers=headers
    )
    assert bad.status_code == 422
    wrong_event = client.put(
        "/v1/webhooks", json={"url": "https://x.example/h", "events": ["nope"]}, headers=headers
    )
    assert wrong_event.json["errors"][0]["pointer"] == "/events/0"
    assert client.get("/v1/webhooks", headers=headers).status_code == 404
    created = client.put(
        "/v1/webhooks",
        json={"url": "https://x.example/h", "events": ["appointment.confirmed"]},
        headers=headers,
    )
    assert created.status_code == 201
    assert created.json["secret"].startswith("whsec_")
    updated = client.put(
        "/v1/webhooks",
        json={"url": "https://y.example/h", "events": ["appointment.confirmed"]},
        headers=headers,
    )
    assert updated.status_code == 200
    assert "secret" not in updated.json


def test_an_opt_out_is_reported_to_the_client_that_stores_the_person(
    client, make_key, clock, ctx, receiver
) -> None:
    admin = {"Authorization": f"Bearer {make_key('campaigns', name='centre-admin')}"}
    secret = client.put(
        "/v1/webhooks", json={"url": receiver.url, "events": ["recipient.opted_out"]}, headers=admin
    ).json["secret"]
    assert (
        client.put(
            "/v1/recipients/js-77", json={"name": "홍길동", "phone": "010-1234-5678"}, headers=admin
        ).status_code
        == 201
    )
    other = {"Authorization": f"Bearer {make_key('campaigns', name='someone-else')}"}
    response = client.post(
        "/v1/opt-outs",
        json={"phone": "010-1234-5678", "scope": "advertising", "source": "call_center"},
        headers=other,
    )
    assert response.status_code == 201
    webhooks.deliver_due(ctx)
    [call] = receiver.wait_for(1)
    payload = verify(secret, call)
    assert payload["type"] == "recipient.opted_out"
    assert payload["data"]["recipient_external_id"] == "js-77"
    assert (payload["data"]["phone"], payload["data"]["scope"]) == ("+821012345678", "advertising")


# ---- who may subscribe, and where to ------------------------------------------------------------

ALL_EVENTS = [
    "message.status_changed",
    "appointment.confirmed",
    "appointment.change_requested",
    "recipient.opted_out",
]


@pytest.mark.parametrize(
    ("scopes", "events", "missing"),
    [
        (("appointments",), ["message.status_changed"], ("message.status_changed", "send")),
        (("send",), ["appointment.confirmed"], ("appointment.confirmed", "appointments")),
        (("send",), ["appointment.change_requested"], ("appointment.change_requested", "appointments")),
        (("appointments",), ["recipient.opted_out"], ("recipient.opted_out", "campaigns")),
        (
            ("appointments",),
            ["appointment.confirmed", "recipient.opted_out"],
            ("recipient.opted_out", "campaigns"),
        ),
    ],
)
def test_each_event_needs_the_scope_that_may_see_it(client, make_key, scopes, events, missing) -> None:
    key = {"Authorization": f"Bearer {make_key(*scopes)}"}
    response = client.put(
        "/v1/webhooks", json={"url": "https://hooks.example/h", "events": events}, headers=key
    )
    assert response.status_code == 403
    event, scope = missing
    assert f"'{event}'" in response.json["detail"] and f"'{scope}'" in response.json["detail"]
    assert client.get("/v1/webhooks", headers=key).status_code == 404


@pytest.mark.parametrize("scopes", [("admin",), ("send", "appointments", "campaigns")])
def test_a_key_with_every_scope_may_subscribe_to_every_event(client, make_key, scopes) -> None:
    key = {"Authorization": f"Bearer {make_key(*scopes)}"}
    body = {"url": "https://hooks.example/h", "events": ALL_EVENTS}
    assert client.put("/v1/webhooks", json=body, headers=key).status_code == 201


@pytest.fixture
def public_only(ctx):
    ctx.settings = ctx.settings.with_overrides(webhook_allow_private=False)
    return ctx


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hooks",
        "http://localhost/hooks",
        "http://2130706433/hooks",  # 127.0.0.1 spelt as one number
        "http://[::1]/hooks",
        "http://[::ffff:127.0.0.1]/hooks",
        "http://0.0.0.0/hooks",
        "http://10.1.2.3/hooks",
        "http://172.16.0.5/hooks",
        "http://192.168.0.10/hooks",
        "http://100.64.0.1/hooks",
        "http://169.254.169.254/latest/meta-data/",  # the cloud metadata service
        "http://[fe80::1]/hooks",
        "http://224.0.0.1/hooks",
        "http://240.0.0.1/hooks",
        "https://no-such-host.invalid/hooks",
    ],
)
def test_webhooks_to_internal_addresses_are_refused_and_not_stored(client, headers, public_only, url) -> None:
    response = client.put(
        "/v1/webhooks", json={"url": url, "events": ["appointment.confirmed"]}, headers=headers
    )
    assert response.status_code == 422, response.json
    assert [e["pointer"] for e in response.json["errors"]] == ["/url"]
    assert client.get("/v1/webhooks", headers=headers).status_code == 404


def test_webhooks_to_public_addresses_are_accepted(client, headers, public_only) -> None:
    body = {"url": "https://93.184.216.34/hooks", "events": ["appointment.confirmed"]}
    assert client.put("/v1/webhooks", json=body, headers=headers).status_code == 201


@pytest.mark.parametrize("url", ["http:///hooks", "http://hooks.example:99999/h", "http://hooks.example:0/h"])
def test_webhook_urls_must_name_a_host_and_a_usable_port(client, headers, url) -> None:
    response = client.put(
        "/v1/webhooks", json={"url": url, "events": ["appointment.confirmed"]}, headers=headers
    )
    assert response.status_code == 422
    assert [e["pointer"] for e in response.json["errors"]] == ["/url"]


def test_a_webhook_whose_host_turns_internal_is_not_delivered_to(
    client, headers, clock, ctx, receiver
) -> None:
    client.put(
        "/v1/webhooks", json={"url": receiver.url, "events": ["appointment.confirmed"]}, headers=headers
    )
    # As if its DNS now pointed at an internal address: checked again when delivering.
    ctx.settings = ctx.settings.with_overrides(webhook_allow_private=False)
    appointment = client.put("/v1/appointments/p12", json=booking(), headers=headers).json
    token = csrf(client.get(page_path(appointment)).get_data(as_text=True))
    client.post(page_path(appointment) + "/confirm", data={"csrf_token": token})
    assert webhooks.deliver_due(ctx) == 1
    [delivery] = client.get("/v1/webhooks", headers=headers).json["deliveries"]
    assert (delivery["status"], delivery["last_error"]) == ("failed", "address not allowed")
    assert receiver.received == []


def test_private_webhook_addresses_are_off_unless_configured(env) -> None:
    assert Settings.from_env({**env, "NOTIFIER_WEBHOOK_ALLOW_PRIVATE": ""}).webhook_allow_private is False
    assert Settings.from_env({**env, "NOTIFIER_WEBHOOK_ALLOW_PRIVATE": "true"}).webhook_allow_private is True
    with pytest.raises(ConfigError, match="NOTIFIER_WEBHOOK_ALLOW_PRIVATE"):
        Settings.from_env({**env, "NOTIFIER_WEBHOOK_ALLOW_PRIVATE": "maybe"})


def wait_until_a_session_waits_for_a_lock(engine, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    query = sa.text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
    while time.monotonic() < deadline:
        with engine.connect() as conn:  # a fresh transaction: the view is a snapshot per transaction
            if conn.execute(query).scalar_one():
                return
        time.sleep(0.02)
    raise TimeoutError("no session started waiting for a lock")


def test_two_first_registrations_at_once_both_succeed(ctx) -> None:
    url, now = "https://hooks.example/h", ctx.clock()
    with ctx.engine.connect() as first, ThreadPoolExecutor(max_workers=1) as pool:
        first.execute(
            webhook_table.insert().values(
                owner="racer",
                url=url,
                events=["appointment.confirmed"],
                secret="whsec_first",
                created_at=now,
                updated_at=now,
            )
        )
        # The second sees no webhook yet, so it inserts too, and waits for the first to commit.
        second = pool.submit(webhooks.put_webhook, ctx, "racer", url, ["appointment.change_requested"])
        wait_until_a_session_waits_for_a_lock(ctx.engine)
        first.commit()
        assert second.result(timeout=10) == (200, {"url": url, "events": ["appointment.change_requested"]})
    with ctx.engine.connect() as conn:
        stored = (
            conn.execute(sa.select(webhook_table).where(webhook_table.c.owner == "racer")).mappings().one()
        )
    assert (stored["secret"], stored["events"]) == ("whsec_first", ["appointment.change_requested"])
