"""The person's page: an answer given in the afternoon to a page opened in the morning counts; an
answer given for an old time is not shown for the new one."""

from __future__ import annotations

import time

from itsdangerous import URLSafeTimedSerializer

from tests.integration.test_recipient_page_and_webhooks import booking, page_path

FIVE_HOURS = 5 * 3600


class IssuedEarlier(URLSafeTimedSerializer):
    """Signs as Flask-WTF does, with the clock of five hours ago."""

    def make_signer(self, salt=None):
        signer = super().make_signer(salt)
        signer.get_timestamp = lambda: int(time.time()) - FIVE_HOURS
        return signer


def test_a_form_token_issued_hours_ago_is_still_accepted(app, client, headers, clock) -> None:
    appointment = client.put("/v1/appointments/late-answer", json=booking(), headers=headers).json
    client.get(page_path(appointment))  # the page puts the raw token in the person's session
    with client.session_transaction() as session:
        raw = session["csrf_token"]
    old = IssuedEarlier(app.config["SECRET_KEY"], salt="wtf-csrf-token").dumps(raw)
    answered = client.post(page_path(appointment) + "/confirm", data={"csrf_token": old})
    assert answered.status_code in (200, 303), answered.get_data(as_text=True)
    assert client.get("/v1/appointments/late-answer", headers=headers).json["attendance"] == "confirmed"


def csrf_of(html: str) -> str:
    import re

    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_a_confirmation_is_not_shown_for_the_new_time_after_a_move(client, headers, clock) -> None:
    appointment = client.put("/v1/appointments/moved-after", json=booking(), headers=headers).json
    token = csrf_of(client.get(page_path(appointment)).get_data(as_text=True))
    client.post(page_path(appointment) + "/confirm", data={"csrf_token": token})
    assert "참석 확인이 전달되었습니다" in client.get(page_path(appointment)).get_data(as_text=True)
    moved = client.put(
        "/v1/appointments/moved-after",
        json=booking(starts_at="2026-12-04T10:00:00+09:00", version=2),
        headers=headers,
    ).json
    assert moved["attendance"] is None
    page = client.get(page_path(moved)).get_data(as_text=True)
    assert "참석 확인이 전달되었습니다" not in page
    assert "참석 확인</button>" in page  # asked again, for the new time
