"""/outbox: what stayed on this machine, for every channel that has no provider configured."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from flask.testing import FlaskClient

from notifier import bootstrap, create_app
from notifier.bootstrap import load_shipped_data, wire
from notifier.keys import repository as keys
from notifier.messages.sending import deliver
from tests.factories import email_body, message_body
from tests.integration.test_delivery import FrozenClock

NOON_UTC = datetime(2026, 12, 1, 3, 0, 5, tzinfo=UTC)  # 12:00:05 in Seoul


@contextmanager
def service(settings, engine, **overrides: Any) -> Iterator[tuple[FlaskClient, Any, dict[str, str]]]:
    ctx = wire(
        bootstrap.build(settings.with_overrides(**overrides), clock=FrozenClock(NOON_UTC), engine=engine)
    )
    load_shipped_data(ctx)
    app = create_app(ctx=ctx)
    try:
        with ctx.engine.begin() as conn:
            key = keys.create(conn, "booking-system", ("send",), ctx.clock())
        yield app.test_client(), ctx, {"Authorization": f"Bearer {key}"}
    finally:
        app.extensions["publisher"].close()


def send(client: FlaskClient, ctx, auth: dict[str, str], body: dict[str, Any]) -> str:
    response = client.post("/v1/messages", json=body, headers=auth)
    assert response.status_code == 202, response.json
    deliver(ctx, response.json["id"])
    return str(response.json["id"])


def test_sms_kept_in_the_outbox_are_shown_on_a_staging_machine_with_smtp(settings, clean_db) -> None:
    with service(settings, clean_db, twilio=None, solapi=None, public_outbox=True) as (client, ctx, auth):
        message_id = send(client, ctx, auth, message_body())
        page = client.get("/outbox")
        html = page.get_data(as_text=True)
    assert (page.status_code, page.mimetype) == (200, "text/html")
    assert message_id in html and "홍길동" in html and "문자" in html


def test_with_a_provider_configured_the_outbox_shows_nobody_what_real_people_were_sent(
    settings, clean_db
) -> None:
    # Email has a provider, SMS has none: the SMS kept are to real job seekers, and the page
    # has no login.
    with service(settings, clean_db, twilio=None, solapi=None) as (client, ctx, auth):
        send(client, ctx, auth, message_body())
        page = client.get("/outbox")
        part = client.get("/outbox/1/html")
    assert (page.status_code, page.mimetype) == (404, "application/problem+json")
    assert "NOTIFIER_PUBLIC_OUTBOX" in page.json["detail"]
    answer = page.get_data(as_text=True)
    assert "홍길동" not in answer and "1234" not in answer
    assert part.status_code == 404


def test_outbox_times_are_shown_in_the_centres_zone_not_utc(settings, clean_db) -> None:
    with service(settings, clean_db, twilio=None, smtp=None) as (client, ctx, auth):
        send(client, ctx, auth, message_body(center={"code": "seosan"}))
        html = client.get("/outbox").get_data(as_text=True)
    assert "2026-12-01 12:00:05 KST" in html
    assert "03:00:05" not in html.replace('datetime="2026-12-01T03:00:05+00:00"', "")


def test_an_emails_html_part_opens_whole_and_runs_no_script(settings, clean_db) -> None:
    with service(settings, clean_db, smtp=None, public_outbox=True) as (client, ctx, auth):
        send(client, ctx, auth, email_body())
        page = client.get("/outbox").get_data(as_text=True)
        [link] = re.findall(r'href="(/outbox/\d+/html)"', page)
        part = client.get(link)
        missing = client.get("/outbox/999999/html")
    assert (part.status_code, part.mimetype) == (200, "text/html")
    assert part.get_data(as_text=True).rstrip().endswith("</html>")
    assert "서산고용복지+센터" in part.get_data(as_text=True)
    assert part.headers["Content-Security-Policy"].startswith("sandbox")
    assert 'onload="fit(this)"' in page  # the frame on the page is sized to the email
    assert missing.status_code == 404


def test_the_outbox_is_hidden_once_every_channel_has_a_provider(client) -> None:
    assert client.get("/outbox").status_code == 404  # this test setup has Twilio and SMTP
    assert client.get("/outbox/1/html").status_code == 404
