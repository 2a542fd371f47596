"""A person who opens their page in the morning can still answer in the afternoon."""

from __future__ import annotations

import time

from itsdangerous import URLSafeTimedSerializer

from tests.integration.test_recipient_page_and_webhooks import booking, page_path
from tests.integration.test_recipient_page_and_webhooks import clock as clock
from tests.integration.test_recipient_page_and_webhooks import headers as headers

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
