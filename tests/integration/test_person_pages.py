"""What every answer to a person's link carries, read from the HTTP answers themselves.

The token in /a/..., /s/... and /u/... links is the credential: no answer to one (page,
redirect, error page, plain text) may be kept by a cache, leak the link in a Referer header,
or be shown inside another site's frame, where its buttons could be clicked for the person.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from notifier.consent.opt_out_links import opt_out_url
from tests.integration.test_appointments_api import booking
from tests.integration.test_openapi_answers import short_code
from tests.integration.test_opt_outs import PHONE
from tests.integration.test_recipient_page_and_webhooks import csrf, page_path


def assert_private(answer) -> None:
    where = (answer.request.method, answer.request.path, answer.status_code)
    assert answer.headers.get("Cache-Control") == "no-store", where
    assert answer.headers.get("Referrer-Policy") == "no-referrer", where
    assert answer.headers.get("X-Frame-Options") == "DENY", where
    assert "frame-ancestors 'none'" in answer.headers.get("Content-Security-Policy", ""), where


def test_every_answer_of_the_appointment_page_and_its_short_link_is_private(
    client, headers, clock, ctx
) -> None:
    appointment = client.put("/v1/appointments/h1", json=booking(), headers=headers).json
    cancelled = client.put("/v1/appointments/h2", json=booking(), headers=headers).json
    path, code = page_path(appointment), short_code(ctx, appointment["id"])
    page = client.get(path)
    token = csrf(page.get_data(as_text=True))
    cancelled_token = csrf(client.get(page_path(cancelled)).get_data(as_text=True))
    client.delete("/v1/appointments/h2", headers=headers)
    answers = [
        (page, 200),
        (client.get(f"/s/{code}"), 302),
        (client.post(path + "/confirm", data={"csrf_token": token}), 303),
        (client.post(path + "/change", data={}), 400),  # no CSRF token
        (client.post(path + "/maybe", data={"csrf_token": token}), 404),
        (client.post(page_path(cancelled) + "/confirm", data={"csrf_token": cancelled_token}), 409),
        (client.get(path[:-3] + "abc"), 404),  # tampered
        (client.get("/a/not-a-token"), 404),
        (client.get("/s/AAAAAAAAAAA"), 404),
        (client.get("/s/" + "x" * 40), 404),
        (client.get(path + "/confirm"), 405),  # the router's answers, which name the token too
        (client.get(path + "/confirm/again"), 404),
    ]
    clock.now = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)  # after 14:00-14:50 in Seoul
    answers += [(client.get(path), 410), (client.get(f"/s/{code}"), 410)]
    for answer, status in answers:
        assert answer.status_code == status, (answer.request.path, answer.status_code)
        assert_private(answer)


def test_every_answer_of_the_unsubscribe_link_is_private(client, ctx) -> None:
    path = opt_out_url(ctx, "crm", "sms", PHONE).removeprefix(ctx.settings.public_url)
    answers = [
        (client.get(path), 200),
        (client.post(path, data={"confirm": "1"}), 200),
        (client.post(path, data={"List-Unsubscribe": "One-Click"}), 200),
        (client.get(path), 200),  # already unsubscribed
        (client.get("/u/garbage"), 404),
        (client.post("/u/garbage", data={"confirm": "1"}), 404),
        (client.post("/u/garbage", data={"List-Unsubscribe": "One-Click"}), 404),
        (client.put(path), 405),
        (client.get("/u/"), 404),
    ]
    for answer, status in answers:
        assert answer.status_code == status, (answer.request.path, answer.status_code)
        assert_private(answer)


def test_a_persons_page_runs_no_script_and_loads_nothing_from_elsewhere(client, headers, clock) -> None:
    appointment = client.put("/v1/appointments/h3", json=booking(), headers=headers).json
    answer = client.get(page_path(appointment))
    policy = answer.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy
    assert not re.search(r"<script|<img|<link", answer.get_data(as_text=True))


def test_what_the_router_answers_under_a_persons_link_is_a_page_in_their_language(
    client, headers, clock
) -> None:
    path = page_path(client.put("/v1/appointments/h3", json=booking(), headers=headers).json)

    button = client.get(path + "/confirm")  # a button's address opened as a page
    assert (button.status_code, button.mimetype) == (405, "text/html")
    assert "POST" in button.headers["Allow"]
    html = button.get_data(as_text=True)
    assert '<html lang="ko"' in html and "페이지의 버튼으로만 쓰는 주소입니다" in html
    assert f'href="{path}"' in html  # back to the page it belongs to
    english = client.get(path + "/confirm", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "This address is for the page's buttons" in english

    nowhere = client.get(path + "/confirm/again")
    assert (nowhere.status_code, nowhere.mimetype) == (404, "text/html")
    assert "잘못된 링크입니다" in nowhere.get_data(as_text=True)
    assert client.get("/v1/nowhere").mimetype == "application/problem+json"  # the API keeps its JSON
