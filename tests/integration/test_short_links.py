"""Short links to a person's page (/s/{code}): what the person who follows one gets.

Read from the outside: the SMS the Twilio fake received, the redirect, and the page's HTML.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from notifier.appointments.short_links import CODE_BYTES
from notifier.messages.scheduler import dispatch_due
from notifier.messages.sending import deliver
from tests.integration.test_appointments_api import NOW, booking

SHORT = re.compile(r"https?://\S+/s/([A-Za-z0-9_\-]+)")


def sms_links(client, headers, clock, ctx, twilio, external_id: str = "s1") -> tuple[dict, list[str]]:
    """Book, send the confirmation and the first reminder; return the appointment and their codes."""
    appointment = client.put(f"/v1/appointments/{external_id}", json=booking(), headers=headers).json
    confirmation = next(m for m in appointment["messages"] if m["purpose"] == "confirmation")
    reminder = next(m for m in appointment["messages"] if m["purpose"] == "reminder")
    deliver(ctx, confirmation["id"])
    clock.now = datetime.fromisoformat(reminder["send_at"].replace("Z", "+00:00"))
    dispatch_due(ctx)
    deliver(ctx, reminder["id"])
    return appointment, [code for m in twilio.messages for code in SHORT.findall(m.body)]


def test_every_sms_of_an_appointment_carries_one_short_code_that_leads_to_the_page(
    client, headers, clock, ctx, twilio
) -> None:
    appointment, codes = sms_links(client, headers, clock, ctx, twilio)

    assert len(codes) == 2 and len(set(codes)) == 1  # the confirmation's and the reminder's
    assert len(codes[0]) == 11  # token_urlsafe(8): 64 random bits
    assert CODE_BYTES * 8 >= 48
    answer = client.get(f"/s/{codes[0]}")
    assert answer.status_code == 302
    page = "/a/" + appointment["page_url"].rsplit("/a/", 1)[1]
    assert answer.headers["Location"].endswith(page)
    assert "1:1 심층상담" in client.get(page).get_data(as_text=True)


def test_two_appointments_get_different_codes(client, headers, clock, ctx, twilio) -> None:
    _, first = sms_links(client, headers, clock, ctx, twilio, "s1")
    twilio.reset()
    clock.now = NOW
    _, second = sms_links(client, headers, clock, ctx, twilio, "s2")
    assert set(first).isdisjoint(second)


def test_an_unknown_code_gets_the_korean_unknown_link_page(client) -> None:
    for code in ("AAAAAAAAAAA", "x" * 40, "한글"):
        answer = client.get(f"/s/{code}")
        assert answer.status_code == 404
        assert answer.content_type.startswith("text/html")
        assert "링크" in answer.get_data(as_text=True)


def test_a_code_expires_with_its_appointment(client, headers, clock, ctx, twilio) -> None:
    appointment, codes = sms_links(client, headers, clock, ctx, twilio)
    clock.now = datetime.fromisoformat(appointment["starts_at"].replace("Z", "+00:00")) + timedelta(hours=2)

    answer = client.get(f"/s/{codes[0]}")

    assert answer.status_code == 410
    assert answer.content_type.startswith("text/html")
    assert "041-661-5676" in answer.get_data(as_text=True)  # the centre to call instead


def test_a_short_link_redirects_without_flasks_english_page(client, headers, clock, ctx, twilio) -> None:
    _, codes = sms_links(client, headers, clock, ctx, twilio)
    answer = client.get(f"/s/{codes[0]}")
    assert answer.status_code == 302
    assert answer.get_data() == b""  # curl shows nothing rather than "Redirecting..." in English
