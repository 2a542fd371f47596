"""PUT/GET/DELETE /v1/recipients/{external_id} and POST /v1/opt-outs (scope ``campaigns``).

Recipients belong to the key's owner; another owner's recipient is a 404. DELETE erases the
personal data and answers 204, also when repeated (an id that never existed is a 404).
An opt-out covers one address for every owner; see ``notifier.consent.coverage`` for
what it suppresses (never a person's own appointment messages).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from flask import Blueprint, Response, g, url_for
from pydantic import EmailStr, Field, StringConstraints

from notifier.api.auth import requires
from notifier.api.context import context
from notifier.api.problems import parse_json
from notifier.centers import service as centers
from notifier.consent import opt_outs, recipients
from notifier.consent.coverage import Source
from notifier.domain.consent import Consent
from notifier.domain.phones import parse_phone
from notifier.errors import FieldError, InvalidPhoneNumber, ValidationFailed
from notifier.schemas import Strict, Timestamp

bp = Blueprint("recipients", __name__, url_prefix="/v1")

Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
LOCALE = r"^[a-z]{2}(-[A-Z]{2})?$"


class ConsentIn(Strict):
    """When the person agreed, and when they last re-confirmed (both with a UTC offset)."""

    given_at: Timestamp
    reconfirmed_at: Timestamp | None = None


class ConsentsIn(Strict):
    """Advertising consents per channel; night-time SMS advertising needs its own consent."""

    sms_advertising: ConsentIn | None = None
    email_advertising: ConsentIn | None = None
    night_advertising: ConsentIn | None = None


class RecipientPut(Strict):
    """A recipient as the client knows it; a PUT replaces everything stored before."""

    name: str = Field(default="", max_length=100)
    phone: str | None = Field(default=None, max_length=32, description="a mobile number; stored as E.164")
    email: EmailStr | None = None
    locale: str = Field(default="ko", pattern=LOCALE)
    center: str | None = Field(default=None, max_length=50, description="code of a registered centre")
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    consents: ConsentsIn = Field(default_factory=ConsentsIn)


class OptOutIn(Strict):
    """One phone number or one email address to stop messaging."""

    phone: str | None = Field(default=None, max_length=32)
    email: EmailStr | None = None
    scope: Literal["advertising", "all"]
    source: Source = "api"
    center: str | None = Field(
        default=None, max_length=50, description="centre that confirms it, if no recipient names one"
    )


def _consent(given: ConsentIn | None) -> Consent | None:
    return Consent(given.given_at, given.reconfirmed_at) if given else None


@bp.put("/recipients/<external_id>")
@requires("campaigns")
def put(external_id: str) -> tuple[dict[str, Any], int, dict[str, str]]:
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
@requires("campaigns")
def show(external_id: str) -> dict[str, Any]:
    return recipients.get_recipient(context(), g.owner, external_id)


@bp.delete("/recipients/<external_id>")
@requires("campaigns")
def erase(external_id: str) -> Response:
    recipients.erase_recipient(context(), g.owner, external_id)
    return Response(status=204)


@bp.post("/opt-outs")
@requires("campaigns")
def opt_out() -> tuple[dict[str, Any], int]:
    body, _ = parse_json(OptOutIn)
    if (body.phone is None) == (body.email is None):
        raise ValidationFailed([FieldError("", "give either phone or email (one address per opt-out)")])
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
