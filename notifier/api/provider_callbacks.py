"""Inbound provider callbacks (Twilio status reports and incoming SMS, SOLAPI delivery reports).

Each is authenticated; a bad or missing signature or secret changes nothing (403). Twilio
signs its requests; SOLAPI's webhooks carry no signature, so their URL holds a secret path
segment (``NOTIFIER_SOLAPI_WEBHOOK_SECRET``), compared in constant time.
"""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, request
from pydantic import BaseModel, ConfigDict, Field, RootModel
from twilio.request_validator import RequestValidator

from notifier.api.context import context
from notifier.api.openapi import PUBLIC, Answers, doc, problems, text
from notifier.api.problems import parse_json_array
from notifier.channels.solapi import CUSTOM_FIELD
from notifier.consent.replies import opt_out_by_reply
from notifier.errors import Forbidden
from notifier.messages import callbacks

bp = Blueprint("provider_callbacks", __name__, url_prefix="/webhooks")
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


class TwilioSignature(BaseModel):
    signature: str = Field(alias="X-Twilio-Signature", description="Twilio's signature of the URL and form")


class TwilioStatusQuery(BaseModel):
    message_id: str | None = Field(default=None, description="ours, in the status callback URL")


class TwilioStatusForm(BaseModel):
    """Twilio's status callback; every field Twilio sends is signed, only these are read."""

    model_config = ConfigDict(extra="allow")

    MessageSid: str = ""
    MessageStatus: str = ""
    ErrorCode: str | None = None


class TwilioInboundForm(BaseModel):
    """An incoming SMS as Twilio posts it; every field Twilio sends is signed, only these are read."""

    model_config = ConfigDict(extra="allow")

    From: str = ""
    To: str = ""
    Body: str = ""


def signed_twilio_params() -> dict[str, str]:
    """Return the form if Twilio signed exactly this URL and body, else raise Forbidden."""
    settings = context().settings
    if settings.twilio is None:
        raise Forbidden("Twilio is not configured, so no Twilio callback can be verified")
    url = settings.public_url + request.path
    if request.query_string:
        url += "?" + request.query_string.decode()
    params = request.form.to_dict()
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature or not RequestValidator(settings.twilio.auth_token).validate(url, params, signature):
        raise Forbidden("the X-Twilio-Signature does not match this request")
    return params


@bp.post("/twilio/status")
@doc(
    query=TwilioStatusQuery,
    headers=TwilioSignature,
    form=TwilioStatusForm,
    resp=Answers(HTTP_204=(None, "Applied, or ignored as late"), **problems(403, 422)),
    security=PUBLIC,
)
def twilio_status() -> Response:
    """Twilio status callback (signed with X-Twilio-Signature)"""
    params = signed_twilio_params()
    callbacks.apply_twilio_status(context(), request.args.get("message_id"), params)
    return Response(status=204)


@bp.post("/twilio/inbound")
@doc(
    headers=TwilioSignature,
    form=TwilioInboundForm,
    resp=Answers(HTTP_200=(None, "Empty TwiML"), content={200: text("text/xml")}, **problems(403, 422)),
    security=PUBLIC,
)
def twilio_inbound() -> Response:
    """Incoming SMS (signed with X-Twilio-Signature)

    `수신거부`, `거부` or `STOP` (any case; spaces ignored) opts the sender out of everything
    (`all`). Any other text changes nothing. Answers empty TwiML.
    """
    params = signed_twilio_params()
    sender, to, text = params.get("From", ""), params.get("To", ""), params.get("Body", "")
    opt_out_by_reply(context(), sender, to, text)
    return Response(EMPTY_TWIML, mimetype="text/xml")


class SolapiKakaoOptions(BaseModel):
    model_config = ConfigDict(extra="allow")

    disableSms: bool = False


class SolapiReportData(BaseModel):
    """One message's report, as SOLAPI's webhook sends it; only these fields are read."""

    model_config = ConfigDict(extra="allow")

    messageId: str = Field(min_length=1, max_length=100)
    type: str = Field(default="", max_length=20)
    statusCode: str = Field(min_length=1, max_length=20)
    statusMessage: str = Field(default="", max_length=500)
    customFields: dict[str, str] | None = None
    kakaoOptions: SolapiKakaoOptions | None = None


class SolapiReport(BaseModel):
    model_config = ConfigDict(extra="allow")

    eventDataId: str | None = None
    data: SolapiReportData


class SolapiReports(RootModel[list[SolapiReport]]):
    """SOLAPI's single-message report webhook: a JSON array of reports."""


@bp.post("/solapi/<secret>")
@doc(
    json=SolapiReports,
    resp=Answers(HTTP_204=(None, "Applied, or ignored as late or unknown"), **problems(400, 403, 415, 422)),
    security=PUBLIC,
)
def solapi_report(secret: str) -> Response:
    """SOLAPI delivery reports (authenticated by the secret in the URL)

    Give SOLAPI `{NOTIFIER_PUBLIC_URL}/webhooks/solapi/{NOTIFIER_SOLAPI_WEBHOOK_SECRET}` as the
    single-message report webhook. A status only moves forward, as with Twilio's callbacks.
    """
    solapi = context().settings.solapi
    expected = solapi.webhook_secret if solapi is not None else None
    if expected is None or not hmac.compare_digest(secret.encode(), expected.encode()):
        raise Forbidden("this is not the SOLAPI webhook URL of this service")
    for report in parse_json_array(SolapiReports).root:
        data = report.data
        callbacks.apply_solapi_report(
            context(),
            callbacks.SolapiReport(
                message_id=data.messageId,
                type=data.type,
                status_code=data.statusCode,
                status_message=data.statusMessage,
                notifier_id=(data.customFields or {}).get(CUSTOM_FIELD),
                fallback_disabled=data.kakaoOptions is None or data.kakaoOptions.disableSms,
            ),
        )
    return Response(status=204)
