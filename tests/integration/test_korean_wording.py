"""The shipped Korean reads as a native speaker writes it: one name per session kind, the
standard spacing of 드리다, no repeated request, a company greeted as a company, and an
opt-out confirmed as done. Read from what reached the Twilio-compatible server and from every
shipped template as it renders."""

from __future__ import annotations

import copy

import pytest

from notifier.bootstrap import TEMPLATES_DIR
from notifier.messages.sending import deliver
from notifier.templates.files import load_directory
from notifier.templates.rendering import Renderer
from tests.factories import appointment_data, message_body
from tests.fakes.twilio_server import FakeTwilio
from tests.integration.test_campaigns_api import campaign, create, send_all

SHIPPED = load_directory(TEMPLATES_DIR)
# After a verb's 아/어 form 드리다 is an auxiliary verb and is written apart (알려 드립니다);
# after a noun it is part of the word (연락드리겠습니다). The forms the templates use:
JOINED_AUXILIARY = ("도와드", "알려드", "잡아드", "덜어드", "안내해드", "보내드")
OTHER_NAMES_OF_THE_EMPLOYER_SESSION = ("채용·고용유지", "고용유지 컨설팅")


def rendered_ko_texts() -> list[tuple[str, str]]:
    renderer = Renderer(TEMPLATES_DIR / "_layout")
    texts = []
    for version in SHIPPED:
        for channel in version.spec.channels:
            data = copy.deepcopy(dict(version.spec.sample_for("ko")))
            rendered = renderer.render(version, channel, "ko", data)
            texts.append((f"{version.key}/{channel}", f"{rendered.subject or ''}\n{rendered.body}"))
    return texts


@pytest.mark.parametrize(("name", "text"), rendered_ko_texts())
def test_shipped_korean_spaces_auxiliary_드리다_and_names_the_session_one_way(name, text) -> None:
    assert [form for form in JOINED_AUXILIARY if form in text] == [], name
    assert [other for other in OTHER_NAMES_OF_THE_EMPLOYER_SESSION if other in text] == [], name


@pytest.fixture
def post(client, make_key):
    auth = {"Authorization": f"Bearer {make_key('send')}"}

    def post(body):
        answer = client.post("/v1/messages", json=body, headers=auth)
        assert answer.status_code == 202, answer.json
        return answer.json["id"]

    return post


def sent_body(ctx, post, twilio: FakeTwilio, body) -> str:
    assert deliver(ctx, post(body)).status == "sent"
    return twilio.messages[-1].body


def test_an_interview_confirmation_asks_once_what_to_bring(ctx, post, twilio) -> None:
    data = appointment_data(kind="interview_resume_consulting", kind_label="면접·이력서 컨설팅")
    text = sent_body(ctx, post, twilio, message_body(data=data))
    assert text.count("가져오") + text.count("가져와") == 1, text


def test_a_company_is_greeted_through_its_contact_person(client, make_key, ctx, twilio) -> None:
    admin = {"Authorization": f"Bearer {make_key('campaigns', name='admin', owner='seosan-admin')}"}
    companies = [
        {"phone": "010-2345-0001", "name": "㈜구미정밀"},
        {"phone": "010-2345-0002", "name": "㈜구미정밀", "data": {"recipient": {"contact": "김민수"}}},
    ]
    body = campaign(template="program_announcement_employers", recipients=companies)
    campaign_id = create(client, admin, body)["id"]  # an announcement goes only as a campaign
    assert client.post(f"/v1/campaigns/{campaign_id}/start", headers=admin).status_code == 200
    assert send_all(ctx, campaign_id) == 2
    sent = {m.to: m.body for m in twilio.messages}

    text = sent["+821023450001"]
    assert text.startswith("안녕하세요, ㈜구미정밀 담당자님. 서산고용복지+센터입니다.")
    assert "㈜구미정밀님" not in text
    named = sent["+821023450002"]
    assert named.startswith("안녕하세요, 김민수님. 서산고용복지+센터입니다.")
    assert "채용·인력유지 컨설팅" in named


@pytest.mark.parametrize("channel", ["sms", "email"])
def test_an_opt_out_confirmation_says_it_has_been_applied(channel) -> None:
    [text] = [t for name, t in rendered_ko_texts() if name == f"opt_out_confirmation/{channel}"]
    assert "요청하신 즉시 적용되었습니다" in text
    assert "적용됩니다" not in text
