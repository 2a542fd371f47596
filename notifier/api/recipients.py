"""PUT/GET/DELETE /v1/recipients/{external_id} and POST /v1/opt-outs (scope ``campaigns``).

Recipients belong to the key's owner; another owner's recipient is a 404. DELETE erases the
personal data and answers 204, also when repeated (an id that never existed is a 404).
An opt-out covers one address for every owner; see ``notifier.consent.coverage`` for
what it suppresses (never a person's own appointment messages).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from flask import Blueprint, Response, g, url_for
from pydantic import ConfigDict, EmailStr, Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from notifier.api.auth import requires
from notifier.api.context import context
from notifier.api.openapi import Answers, doc, problems, scope
from notifier.api.problems import parse_json
from notifier.centers import service as centers
from notifier.consent import opt_outs, recipients
from notifier.consent.coverage import Source
from notifier.consent.opt_outs import OptOut
from notifier.consent.recipients import Recipient
from notifier.domain.consent import Consent
from notifier.domain.phones import parse_phone
from notifier.errors import InvalidPhoneNumber
from notifier.schemas import (
    EMAIL_SCHEMA,
    NOT_BLANK,
    PHONE_OR_EMAIL,
    PHONE_RULE,
    PHONE_SCHEMA,
    IsoTime,
    PhoneText,
    Strict,
)

bp = Blueprint("recipients", __name__, url_prefix="/v1")
SECURITY = scope("campaigns")

Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50, pattern=NOT_BLANK)]
LOCALE = r"^[a-z]{2}(-[A-Z]{2})?$"


class ConsentIn(Strict):
    """When the person agreed, and when they last re-confirmed (both with a UTC offset)."""

    given_at: Annotated[IsoTime, Field(description="not in the future (422 otherwise)")]
    reconfirmed_at: Annotated[IsoTime | None, Field(description="not before `given_at` (422 otherwise)")] = (
        None
    )


class ConsentsIn(Strict):
    """Advertising consents per channel; night-time SMS advertising needs its own consent."""

    sms_advertising: ConsentIn | None = None
    email_advertising: ConsentIn | None = None
    night_advertising: ConsentIn | None = None


class RecipientPut(Strict):
    """A recipient as the client knows it; a PUT replaces everything stored before."""

    model_config = ConfigDict(json_schema_extra={"anyOf": PHONE_OR_EMAIL})

    name: str = Field(default="", max_length=100)
    phone: PhoneText | None = Field(
        default=None, description=f"a mobile number, stored as E.164: {PHONE_RULE}"
    )
    email: EmailStr | None = None
    locale: str = Field(default="ko", pattern=LOCALE)
    center: str | None = Field(default=None, max_length=50, description="code of a registered centre")
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    consents: ConsentsIn = Field(default_factory=ConsentsIn)


class OptOutIn(Strict):
    """One phone number or one email address to stop messaging."""

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {"required": ["phone"], "properties": {"phone": PHONE_SCHEMA}},
                {"required": ["email"], "properties": {"email": EMAIL_SCHEMA}},
            ]
        }
    )

    phone: PhoneText | None = None
    email: EmailStr | None = None
    scope: Literal["advertising", "all"]
    source: Source = "api"
    center: str | None = Field(
        default=None, max_length=50, description="centre that confirms it, if no recipient names one"
    )

    @model_validator(mode="after")
    def _one_address(self) -> OptOutIn:
        if (self.phone is None) == (self.email is None):
            raise PydanticCustomError("one_address", "give either phone or email (one address per opt-out)")
        return self


def _consent(given: ConsentIn | None) -> Consent | None:
    return Consent(given.given_at, given.reconfirmed_at) if given else None


@bp.put("/recipients/<external_id>")
@doc(
    json=RecipientPut,
    resp=Answers(
        HTTP_200=(Recipient, "Replaced"),
        HTTP_201=(Recipient, "Created (also after an erasure)"),
        **problems(400, 401, 403, 413, 415, 422),
    ),
    security=SECURITY,
)
@requires("campaigns")
def put(external_id: str) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Create or replace a recipient and its advertising consents

    Stored per key owner. The phone must be a mobile number (stored E.164); consent timestamps
    need a UTC offset and may not lie in the future. Consent counts for 2 years from the later
    of `given_at` and `reconfirmed_at`.
    """
    body, _ = parse_json(RecipientPut)
    consents = {kind: _consent(getattr(body.consents, kind)) for kind in ConsentsIn.model_fields}
    data = recipients.RecipientData(
        name=body.name,
        phone=body.phone,
        email=str(body.email) if body.email else None,
        locale=body.locale,
        center=body.center,
        tags=body.tags,
        consents=consents,
    )
    created, view = recipients.put_recipient(context(), g.owner, external_id, data)
    location = url_for("recipients.show", external_id=external_id)
    return view, 201 if created else 200, {"Location": location}


@bp.get("/recipients/<external_id>")
@doc(resp=Answers(HTTP_200=(Recipient, "The recipient"), **problems(401, 403, 404)), security=SECURITY)
@requires("campaigns")
def show(external_id: str) -> dict[str, Any]:
    """A recipient, with `consent_valid` computed now"""
    return recipients.get_recipient(context(), g.owner, external_id)


@bp.delete("/recipients/<external_id>")
@doc(resp=Answers(HTTP_204=(None, "Erased"), **problems(401, 403, 404)), security=SECURITY)
@requires("campaigns")
def erase(external_id: str) -> Response:
    """Erase a recipient's personal data

    Name, phone, email, tags and consents are erased; opt-outs (stored as keyed hashes) keep
    blocking. Repeating the DELETE is a 204 again; an id never stored is a 404.
    """
    recipients.erase_recipient(context(), g.owner, external_id)
    return Response(status=204)


@bp.post("/opt-outs")
@doc(
    json=OptOutIn,
    resp=Answers(
        HTTP_200=(OptOut, "Already in force"),
        HTTP_201=(OptOut, "Recorded"),
        **problems(400, 401, 403, 413, 415, 422),
    ),
    security=SECURITY,
)
@requires("campaigns")
def opt_out() -> tuple[dict[str, Any], int]:
    """Opt a phone number or email address out

    Takes effect at once for every owner: pending messages it covers are suppressed now, later
    ones when a worker claims them. `advertising` covers advertising messages; `all` every
    campaign message too. A person's own appointment messages (confirmation, reminder, change,
    cancellation) are never suppressed. The person gets a confirmation on the same channel from
    their recipient record's centre, else `center`, else the centre of the latest message to them
    (none if nobody ever wrote to them). An opt-out already in force is answered with 200 and
    confirmed no second time. Give exactly one of `phone` and `email`.
    """
    body, _ = parse_json(OptOutIn)  # one of phone and email: checked by the model
    ctx = context()
    if body.phone is not None:
        try:
            channel, address = "sms", parse_phone(body.phone).e164
        except InvalidPhoneNumber as exc:
            raise InvalidPhoneNumber(body.phone, exc.reason, "/phone") from exc
    else:
        channel, address = "email", str(body.email)
    if body.center:
        centers.get(ctx, body.center, "/center")
    created, view = opt_outs.record_opt_out(
        ctx,
        channel=channel,
        address=address,
        scope=body.scope,
        source=body.source,
        owner=g.owner,
        center_code=body.center,
    )
    return view, 201 if created else 200
