"""KakaoTalk AlimTalk through SOLAPI, with SOLAPI's SMS/LMS fallback (대체발송).

An AlimTalk goes from the centre's KakaoTalk channel (``pfId``) with a template Kakao approved;
``disableSms`` is false, so when the person cannot get it (no KakaoTalk, blocked channel)
SOLAPI itself sends an SMS or LMS from the centre's registered number: one message to the
person, never both. What that fallback says is the message's ``replacements`` entry (SOLAPI's
replacement message: ``from``, ``to``, ``text``, ``subject`` for an LMS): the template's SMS
text, rendered with the same data and checked like any SMS when the message was accepted.
Its class follows the text's cp949 size. A message accepted before the fallback text was
rendered has none, and SOLAPI's fallback then carries the AlimTalk text, as it did before.

Buttons: the ``solapi`` SDK (5.0.3) drops them. ``RequestMessage.kakao_options`` is typed as
``solapi.model.KakaoOption``, which has no ``buttons`` field (only the unused
``solapi.model.request.kakao.kakao_option.KakaoOption`` has one), and pydantic serialises a
field by its declared type, so even a subclass instance loses them. So the body is built
with the SDK's own models and dumped as the SDK would, the buttons are added to that JSON as
SOLAPI documents them (``buttonName``, ``buttonType``, ``linkMo``, ``linkPc``), and it is
posted through the SDK's own fetcher (same HMAC signature, same fixed 5 s timeout); the
answer is read with the SDK's ``SendMessageResponse``.
"""

from __future__ import annotations

from typing import Any

from solapi import SolapiMessageService
from solapi.lib.fetcher import RequestMethod, default_fetcher
from solapi.model import KakaoOption, MessageType, RequestMessage
from solapi.model.kakao.kakao_button import KakaoButton
from solapi.model.request.send_message_request import SendMessageRequest
from solapi.model.response.send_message_response import SendMessageResponse

from notifier.channels.base import AlimtalkRequest

SEND_PATH = "/messages/v4/send-many/detail"


def alimtalk_body(
    request: AlimtalkRequest,
    sender: str,
    to: str,
    custom_fields: dict[str, str],
    fallback_subject: str | None = None,
) -> dict[str, Any]:
    """The send-many body for one AlimTalk (numbers in domestic form), buttons and fallback included.

    ``fallback_subject`` is the LMS subject of the fallback, if it goes as an LMS with one.
    """
    message = RequestMessage(
        from_=sender,
        to=to,
        text=request.body,
        type=MessageType.ATA,
        kakao_options=KakaoOption(
            pf_id=request.pf_id,
            template_id=request.template_id,
            variables=dict(request.variables),
            disable_sms=False,  # SOLAPI sends the SMS/LMS fallback itself
        ),
        custom_fields=custom_fields,
    )
    body: dict[str, Any] = SendMessageRequest(messages=[message], show_message_list=True).model_dump(
        exclude_none=True, by_alias=True
    )
    if request.buttons:
        body["messages"][0]["kakaoOptions"]["buttons"] = [
            KakaoButton(
                button_name=b["name"], button_type=b["type"], link_mo=b["link"], link_pc=b["link"]
            ).model_dump(exclude_none=True, by_alias=True)
            for b in request.buttons
        ]
    if request.fallback_text:  # the SDK's RequestMessage has no field for SOLAPI's replacements
        replacement = {"from": sender, "to": to, "text": request.fallback_text}
        if fallback_subject:
            replacement["subject"] = fallback_subject
        body["messages"][0]["replacements"] = [replacement]
    return body


def post_send_many(service: SolapiMessageService, body: dict[str, Any]) -> SendMessageResponse:
    """POST ``body`` as the SDK's ``send`` would (its signature, fetcher and answer model)."""
    raw = default_fetcher(
        service.auth_info,
        request={"method": RequestMethod.POST, "url": f"{service.base_url}{SEND_PATH}"},
        data=body,
    )
    return SendMessageResponse.model_validate(raw)
