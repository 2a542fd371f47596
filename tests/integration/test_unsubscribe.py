"""/u/{token}: the unsubscribe page and RFC 8058 one-click unsubscribe, without login or cookies."""

from __future__ import annotations

import base64

from itsdangerous import URLSafeSerializer
from sqlalchemy import select

from notifier.consent.opt_out_links import list_unsubscribe_headers, opt_out_url
from notifier.consent.tables import opt_outs
from notifier.messages.sending import deliver
from tests.integration.test_appointments_api import booking
from tests.integration.test_campaigns_api import campaign, create, send_all
from tests.integration.test_opt_outs import PHONE, count, message, pending_message

# What an opt-out of scope 'all' stops, as the person reads it (not every message).
ALL_LABEL = "광고와 센터의 단체 안내 메시지 전체 (본인 예약 안내 제외)"


def path_of(ctx, url: str) -> str:
    assert url.startswith(ctx.settings.public_url + "/u/")
    return url.removeprefix(ctx.settings.public_url)


def stored_opt_out(ctx):
    with ctx.engine.connect() as conn:
        return conn.execute(select(opt_outs)).mappings().one()


def test_unsubscribe_links_and_rfc_8058_headers(ctx) -> None:
    url = opt_out_url(ctx, "crm", "email", "Hong@Example.com")
    assert url.startswith(f"{ctx.settings.public_url}/u/")
    assert list_unsubscribe_headers(url) == {
        "List-Unsubscribe": f"<{url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    # The same person gets the same link, whichever way the address was written.
    assert opt_out_url(ctx, "crm", "sms", "010-1234-5678") == opt_out_url(ctx, "crm", "sms", PHONE)


def test_the_page_asks_in_korean_and_changes_nothing(client, ctx) -> None:
    pending = pending_message(ctx)
    page = client.get(path_of(ctx, opt_out_url(ctx, "crm", "sms", PHONE)))
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert '<html lang="ko">' in html and 'name="viewport"' in html
    assert 'method="post"' in html and ">수신거부</button>" in html
    assert "010-****-5678" in html and "광고성 정보" in html
    assert PHONE not in html and "1234" not in html
    assert page.headers["Cache-Control"] == "no-store"
    assert count(ctx) == 0
    assert message(ctx, pending)["status"] == "queued"


def test_one_click_post_opts_out_without_login_or_cookies(app, ctx) -> None:
    pending = pending_message(ctx)
    url = opt_out_url(ctx, "crm", "sms", PHONE)
    fresh = app.test_client(use_cookies=False)
    response = fresh.post(path_of(ctx, url), data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert "Set-Cookie" not in response.headers
    row = stored_opt_out(ctx)
    assert (row["scope"], row["source"], row["recorded_by"]) == ("advertising", "unsubscribe_link", "crm")
    assert message(ctx, pending)["status"] == "suppressed"
    # Mail clients may post twice; the second changes nothing.
    assert fresh.post(path_of(ctx, url), data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert count(ctx) == 1


def test_the_pages_own_button_answers_with_a_confirmation_page(client, ctx, twilio) -> None:
    pending_message(ctx, category="informational")  # a centre once wrote to this number
    url = opt_out_url(ctx, "crm", "sms", PHONE, scope="all")
    response = client.post(path_of(ctx, url), data={"confirm": "1"})
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "수신거부가 처리되었습니다" in html and ALL_LABEL in html
    assert stored_opt_out(ctx)["scope"] == "all"


def test_an_email_one_click_is_confirmed_by_email(client, ctx, smtp) -> None:
    pending_message(ctx, phone=None, email="hong@example.com")
    url = opt_out_url(ctx, "crm", "email", "hong@example.com")
    assert client.post(path_of(ctx, url), data={"List-Unsubscribe": "One-Click"}).status_code == 200
    with ctx.engine.connect() as conn:
        from notifier.messages.tables import messages

        confirmation = conn.execute(
            select(messages.c.id).where(messages.c.template_key == "opt_out_confirmation")
        ).scalar_one()
    assert deliver(ctx, confirmation).status == "sent"
    mail = smtp.wait_for_messages(1)[0]
    assert mail.rcpt_tos == ["hong@example.com"]
    assert "수신거부" in str(mail.message["Subject"])


def legacy_token(ctx, payload, secret=None, salt="unsubscribe"):
    """A link as sent before opaque tokens: the address itself, signed."""
    return URLSafeSerializer(secret or ctx.settings.secret_key, salt=salt).dumps(payload)


def test_forged_altered_or_garbage_tokens_are_404_and_change_nothing(client, ctx) -> None:
    pending = pending_message(ctx)
    payload = {"c": "sms", "a": PHONE, "s": "all", "o": "crm"}
    forged = legacy_token(ctx, payload, secret="not-the-secret")
    genuine = legacy_token(ctx, {**payload, "s": "advertising"})
    signature = genuine.rsplit(".", 1)[1]
    altered = legacy_token(ctx, payload).rsplit(".", 1)[0]
    other_salt = legacy_token(ctx, payload, salt="other")
    wrong_shape = legacy_token(ctx, {"a": PHONE})
    opaque = opt_out_url(ctx, "crm", "sms", PHONE).rsplit("/", 1)[1]
    guessed = opaque[:-1] + ("A" if opaque[-1] != "A" else "B")
    tokens = (forged, f"{altered}.{signature}", other_salt, wrong_shape, guessed, "garbage", "x" * 2000)
    for token in tokens:
        page = client.get(f"/u/{token}")
        assert page.status_code == 404 and page.mimetype == "text/html"
        assert "잘못된 링크" in page.get_data(as_text=True)
        assert client.post(f"/u/{token}", data={"confirm": "1"}).status_code == 404
        one_click = client.post(f"/u/{token}", data={"List-Unsubscribe": "One-Click"})
        assert one_click.status_code == 404
    assert count(ctx) == 0
    assert message(ctx, pending)["status"] == "queued"
    # A link sent before opaque tokens, whose signature the altered one borrowed, still works,
    # and its page names the centre that wrote to that address last.
    legacy_page = client.get(f"/u/{genuine}").get_data(as_text=True)
    assert "서산고용복지+센터" in legacy_page and "041-661-5676" in legacy_page
    assert client.post(f"/u/{genuine}", data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert stored_opt_out(ctx)["scope"] == "advertising"


def test_the_page_names_the_centre_that_sent_the_message(client, ctx) -> None:
    center = {"code": "seosan", "name": "서산고용복지+센터", "phone": "+82416615676"}
    url = opt_out_url(ctx, "crm", "sms", PHONE, center=center)
    html = client.get(path_of(ctx, url)).get_data(as_text=True)
    assert "서산고용복지+센터" in html and "041-661-5676" in html
    done = client.post(path_of(ctx, url), data={"confirm": "1"}).get_data(as_text=True)
    assert "서산고용복지+센터" in done and "041-661-5676" in done


def test_a_link_names_neither_the_address_nor_its_encoding(ctx) -> None:
    url = opt_out_url(ctx, "crm", "email", "hong@example.com")
    token = url.rsplit("/u/", 1)[1]
    assert "hong" not in url and "." not in token
    decoded = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert b"hong" not in decoded and len(decoded) * 8 >= 128


def test_an_english_readers_page_is_in_english_and_says_when_they_already_unsubscribed(
    client, make_key, ctx, smtp
) -> None:
    admin = {"Authorization": f"Bearer {make_key('campaigns', name='admin', owner='seosan-admin')}"}
    person = {"email": "jane@example.com", "name": "Jane Doe", "locale": "en"}
    body = campaign(channel="email", recipients=[person])
    created = create(client, admin, body)
    assert client.post(f"/v1/campaigns/{created['id']}/start", headers=admin).status_code == 200
    assert send_all(ctx, created["id"]) == 1
    [mail] = smtp.wait_for_messages(1)
    path = path_of(ctx, mail.message["List-Unsubscribe"].strip("<>"))

    for accept in ({}, {"Accept-Language": "ko-KR,ko;q=0.9"}, {"Accept-Language": "en"}):
        html = client.get(path, headers=accept).get_data(as_text=True)
        assert '<html lang="en">' in html, accept
        assert "<h1>Unsubscribe</h1>" in html and ">Unsubscribe</button>" in html
        assert "From: 서산고용복지+센터" in html and "041-661-5676" in html
        assert "수신거부" not in html
    assert client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200

    html = client.get(path).get_data(as_text=True)
    assert '<html lang="en">' in html and "You have already unsubscribed" in html
    assert "<button" not in html and "<form" not in html
    assert "jane@example.com" not in html
    assert "not those about your own appointments" in html and "041-661-5676" in html


def test_after_unsubscribing_the_page_says_so_in_korean_without_a_button(client, ctx) -> None:
    url = opt_out_url(ctx, "crm", "sms", PHONE)
    client.post(path_of(ctx, opt_out_url(ctx, "crm", "sms", PHONE, scope="all")), data={"confirm": "1"})
    html = client.get(path_of(ctx, url)).get_data(as_text=True)
    assert '<html lang="ko">' in html and "이미 수신거부하셨습니다" in html
    assert ALL_LABEL in html  # what is in force: more than this link's advertising
    assert "<button" not in html and "<form" not in html
    assert count(ctx) == 1


def test_without_a_known_language_the_page_follows_the_browser(client, ctx) -> None:
    path = path_of(ctx, opt_out_url(ctx, "crm", "sms", PHONE))
    korean = client.get(path).get_data(as_text=True)
    assert '<html lang="ko">' in korean and ">수신거부</button>" in korean
    english = client.get(path, headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    assert '<html lang="en">' in english and ">Unsubscribe</button>" in english
    assert "advertising" in english and "010-****-5678" in english
    done = client.post(path, data={"confirm": "1"}, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="en">' in done and "You have been unsubscribed" in done


def test_a_bad_link_is_explained_in_the_browsers_language(client, headers, clock) -> None:
    appointment = client.put("/v1/appointments/u1", json=booking(), headers=headers).json
    tampered = "/a/" + appointment["page_url"].rsplit("/a/", 1)[1][:-3] + "abc"
    for path in ("/u/garbage", "/s/AAAAAAAAAAA", tampered, "/a/not-a-token"):
        korean = client.get(path, headers={"Accept-Language": "ko-KR,ko;q=0.9,en;q=0.8"})
        assert korean.status_code == 404
        html = korean.get_data(as_text=True)
        assert '<html lang="ko">' in html and "잘못된 링크입니다" in html
        assert "잘못된 링크입니다" in client.get(path).get_data(as_text=True)  # no preference: Korean
        english = client.get(path, headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(as_text=True)
        assert '<html lang="en">' in english, path
        assert "This link is not valid" in english and "please call the center" in english
        assert "링크" not in english
