"""What a person receives, read from what reached the outside world: the raw bytes the SMTP
server got, the SMS body the SMS provider got, the page a link opens (issue #12)."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime
from email import message_from_bytes
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.policy import default

import pytest
from sqlalchemy import select

from notifier.consent.tables import opt_outs
from notifier.messages.sending import deliver, deliver_many
from tests.factories import CENTER, email_body
from tests.integration.test_campaigns_api import CONSENTED, OPT_OUT, campaign, create, put_recipient, send_all
from tests.integration.test_delivery import FrozenClock

EMAIL = "js1@example.com"
PHONE = "+821098765432"
URL = re.compile(r"https?://[^\s<>\"']+/u/[A-Za-z0-9_\-.]+")


@pytest.fixture
def admin(make_key):
    return {"Authorization": f"Bearer {make_key('campaigns', name='admin', owner='seosan-admin')}"}


@pytest.fixture
def daytime(ctx):
    ctx.clock = FrozenClock(datetime(2026, 12, 1, 2, 0, tzinfo=UTC))  # 11:00 in Korea
    return ctx.clock


def raw_header_lines(data: bytes, name: str) -> list[bytes]:
    """The header's lines exactly as they crossed the wire (first line and continuations)."""
    head = data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    for i, line in enumerate(head):
        if line.lower().startswith(name.lower().encode() + b":"):
            rest = []
            for more in head[i + 1 :]:
                if not more[:1].isspace():
                    break
                rest.append(more)
            return [line, *rest]
    raise AssertionError(f"no {name} header in {head!r}")


def plain_and_html(message: EmailMessage) -> tuple[str, str]:
    return message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()


def send_advertising_test(client, admin, ctx, twilio, smtp):
    """Send an advertising campaign's test message to a phone and an email address."""
    put_recipient(client, admin, "r1", phone="010-2345-0001", consents=CONSENTED)
    body = campaign(
        category="advertising",
        channel="auto",
        opt_out_number=OPT_OUT,
        recipients=[{"phone": "010-2345-0001"}],
    )
    campaign_id = create(client, admin, body)["id"]
    response = client.post(
        f"/v1/campaigns/{campaign_id}/test", json={"phone": "010-9876-5432", "email": EMAIL}, headers=admin
    )
    assert response.status_code == 202, response.json
    assert deliver_many(ctx, [i["id"] for i in response.json["items"]]) == 2
    [mail] = smtp.wait_for_messages(1)
    [sms] = twilio.wait_for_messages(1)
    return mail, sms


def test_advertising_email_carries_a_plain_one_click_unsubscribe_url(
    client, admin, ctx, daytime, twilio, smtp
):
    mail, _ = send_advertising_test(client, admin, ctx, twilio, smtp)
    [line] = raw_header_lines(mail.data, "List-Unsubscribe")  # one line, not folded or encoded
    match = re.fullmatch(rb"List-Unsubscribe: <(https?://[\x21-\x7e]+)>", line)
    assert match, line
    assert raw_header_lines(mail.data, "List-Unsubscribe-Post") == [
        b"List-Unsubscribe-Post: List-Unsubscribe=One-Click"
    ]
    url = match.group(1).decode()
    plain, html = plain_and_html(mail.message)
    assert url in plain and url in html  # the body's link is the same working link
    # A mail client's one-click POST (RFC 8058) to that very URL opts the address out.
    one_click = client.post(url.removeprefix(ctx.settings.public_url), data={"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200
    with ctx.engine.connect() as conn:
        assert conn.execute(select(opt_outs.c.scope, opt_outs.c.channel)).one() == ("advertising", "email")


def test_links_in_the_received_email_and_sms_carry_no_personal_data(
    client, admin, ctx, daytime, twilio, smtp
):
    mail, sms = send_advertising_test(client, admin, ctx, twilio, smtp)
    plain, html = plain_and_html(mail.message)
    header = raw_header_lines(mail.data, "List-Unsubscribe")[0].decode()
    links = set(URL.findall(plain) + URL.findall(html) + URL.findall(header) + URL.findall(sms.body))
    assert len(links) == 2, links  # one for the email address, one for the phone
    for address in (EMAIL, PHONE, "01098765432", "010-9876-5432", "98765432"):
        encodings = {address, base64.b64encode(address.encode()).decode().rstrip("=")}
        encodings |= {base64.urlsafe_b64encode(address.encode()).decode().rstrip("=")}
        # A base64 of JSON holding the address, whatever its offset, shares a long run with one of these.
        for shift in range(3):
            chunk = base64.urlsafe_b64encode(b"x" * shift + f'"{address}"'.encode()).decode()
            encodings.add(chunk[4 : len(chunk) - 4])
        for link in links:
            token = link.rsplit("/u/", 1)[1]
            assert not any(e and e in token for e in encodings), (address, link)
    for link in links:
        token = link.rsplit("/u/", 1)[1]
        assert "." not in token and len(base64.urlsafe_b64decode(token + "==")) * 8 >= 128
        assert client.get(link.removeprefix(ctx.settings.public_url)).status_code == 200


def test_an_informational_campaign_email_can_be_unsubscribed_from_in_one_click(client, admin, ctx, smtp):
    body = campaign(channel="email", recipients=[{"email": EMAIL, "name": "김영희"}])
    campaign_id = create(client, admin, body)["id"]
    assert client.post(f"/v1/campaigns/{campaign_id}/start", headers=admin).status_code == 200
    assert send_all(ctx, campaign_id) == 1
    [mail] = smtp.wait_for_messages(1)
    assert not str(mail.message["Subject"]).startswith("(광고)")
    [line] = raw_header_lines(mail.data, "List-Unsubscribe")
    url = re.fullmatch(rb"List-Unsubscribe: <(https?://[\x21-\x7e]+)>", line).group(1).decode()
    assert raw_header_lines(mail.data, "List-Unsubscribe-Post")[0].endswith(b" List-Unsubscribe=One-Click")
    plain, html = plain_and_html(mail.message)
    assert url in plain and f'href="{url}"' in html
    path = url.removeprefix(ctx.settings.public_url)
    page = client.get(path).get_data(as_text=True)
    assert "서산고용복지+센터" in page and "041-661-5676" in page  # who is sending
    assert EMAIL not in page
    assert client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    with ctx.engine.connect() as conn:
        # Only scope 'all' covers an informational campaign message.
        assert conn.execute(select(opt_outs.c.scope)).scalar_one() == "all"


def test_from_starts_on_its_own_line_and_korean_names_decode(client, auth, ctx, smtp) -> None:
    long_name = "고용노동부 고용서비스정책관 고용서비스혁신TF"
    for name in (CENTER["name"], long_name):
        body = email_body(center={**CENTER, "name": name})
        response = client.post("/v1/messages", json=body, headers=auth)
        assert response.status_code == 202, response.json
        assert deliver(ctx, response.json["id"]).status == "sent"
    short, long = smtp.wait_for_messages(2)
    for mail, name in ((short, CENTER["name"]), (long, long_name)):
        lines = raw_header_lines(mail.data, "From")
        assert lines[0].startswith(b"From: =?utf-8?"), lines  # never an empty first line
        assert all(len(line) <= 78 for line in lines)
        assert lines[-1].endswith(b"<noreply@seosan.example.kr>")
        value = b" ".join(line.strip() for line in lines).decode().removeprefix("From: ")
        display = value.rsplit(" <", 1)[0]
        assert str(make_header(decode_header(display))) == name  # RFC 2047 words, decoded as one
    parsed = message_from_bytes(short.data, policy=default)
    assert parsed["From"].addresses[0].display_name == CENTER["name"]
    assert parsed["From"].addresses[0].addr_spec == "noreply@seosan.example.kr"


@pytest.mark.parametrize("locale", ["ko", "en"])
def test_the_footer_says_how_to_reply_when_the_centre_has_a_reply_to(client, auth, ctx, smtp, locale):
    with_reply = email_body(center={**CENTER, "reply_to": "seosan-help@example.kr"})
    with_reply["to"]["locale"] = locale
    without = email_body()
    without["to"]["locale"] = locale
    for body in (with_reply, without):
        response = client.post("/v1/messages", json=body, headers=auth)
        assert response.status_code == 202, response.json
        assert deliver(ctx, response.json["id"]).status == "sent"
    replied, send_only = smtp.wait_for_messages(2)
    assert replied.message["Reply-To"] == "seosan-help@example.kr"
    send_only_words = "발신 전용" if locale == "ko" else "send-only"
    reply_words = "회신" if locale == "ko" else "reply to this email"
    for part in plain_and_html(replied.message):
        assert "seosan-help@example.kr" in part and reply_words in part
        assert send_only_words not in part
    for part in plain_and_html(send_only.message):
        assert send_only_words in part and reply_words not in part
