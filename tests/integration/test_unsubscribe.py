"""/u/{token}: the unsubscribe page and RFC 8058 one-click unsubscribe, without login or cookies."""

from __future__ import annotations

from itsdangerous import URLSafeSerializer
from sqlalchemy import select

from notifier.consent.opt_out_links import list_unsubscribe_headers, opt_out_url
from notifier.consent.tables import opt_outs
from notifier.messages.sending import deliver
from tests.integration.test_opt_outs import PHONE, count, message, pending_message


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
    assert "수신거부가 처리되었습니다" in html and "모든 알림" in html
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


def test_forged_altered_or_garbage_tokens_are_404_and_change_nothing(client, ctx) -> None:
    pending = pending_message(ctx)
    payload = {"c": "sms", "a": PHONE, "s": "all", "o": "crm"}
    forged = URLSafeSerializer("not-the-secret", salt="unsubscribe").dumps(payload)
    genuine = opt_out_url(ctx, "crm", "sms", PHONE).rsplit("/", 1)[1]
    signature = genuine.rsplit(".", 1)[1]
    altered = URLSafeSerializer(ctx.settings.secret_key, salt="unsubscribe").dumps(payload).rsplit(".", 1)[0]
    other_salt = URLSafeSerializer(ctx.settings.secret_key, salt="other").dumps(payload)
    wrong_shape = URLSafeSerializer(ctx.settings.secret_key, salt="unsubscribe").dumps({"a": PHONE})
    for token in (forged, f"{altered}.{signature}", other_salt, wrong_shape, "garbage", "x" * 2000):
        page = client.get(f"/u/{token}")
        assert page.status_code == 404 and page.mimetype == "text/html"
        assert "잘못된 링크" in page.get_data(as_text=True)
        assert client.post(f"/u/{token}", data={"confirm": "1"}).status_code == 404
        one_click = client.post(f"/u/{token}", data={"List-Unsubscribe": "One-Click"})
        assert one_click.status_code == 404
    assert count(ctx) == 0
    assert message(ctx, pending)["status"] == "queued"
    # The genuine token, whose signature the altered one borrowed, still works.
    assert client.post(f"/u/{genuine}", data={"List-Unsubscribe": "One-Click"}).status_code == 200
