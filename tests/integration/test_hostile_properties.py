"""Hostile strings in any string field of any request model: a 2xx or a 4xx problem+json, never a
5xx, and a refused request changes no row.

Bodies start valid (the factories of each API's tests); one string field of the request model,
found by walking the model (nested models, and a key and a value of free-form ``data``
objects), gets a hostile string: NUL, lone surrogates, control characters, 100 kB, characters
of every Unicode plane.
"""

from __future__ import annotations

import copy
import json
import types
import typing
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, EmailStr

from notifier.api.recipients import OptOutIn, RecipientPut
from notifier.api.templates import PreviewIn, TemplateIn
from notifier.campaigns.service import CampaignIn, SendTestIn
from notifier.schemas import AppointmentIn, MessageIn, WebhookIn
from tests.factories import message_body
from tests.integration.test_appointments_api import NOW, booking
from tests.integration.test_campaigns_api import campaign
from tests.integration.test_delivery import FrozenClock
from tests.integration.test_hostile_text import snapshot
from tests.integration.test_recipients_api import recipient_body
from tests.integration.test_templates_api import fair_template

Path = tuple[str, ...]
FREE_FORM_KEY = "memo"  # a key inside a free-form object

# (method, path, model, a valid body)
REQUESTS: list[tuple[str, str, type[BaseModel], dict[str, Any]]] = [
    ("POST", "/v1/messages", MessageIn, message_body()),
    ("PUT", "/v1/appointments/prop-1", AppointmentIn, booking()),
    ("POST", "/v1/campaigns", CampaignIn, campaign()),
    ("PUT", "/v1/recipients/r-1", RecipientPut, recipient_body()),
    ("PUT", "/v1/templates/job_fair", TemplateIn, fair_template()),
    ("POST", "/v1/templates/appointment_reminder/preview", PreviewIn, {"channel": "sms"}),
    ("POST", "/v1/opt-outs", OptOutIn, {"phone": "010-2345-6789", "scope": "all"}),
    (
        "PUT",
        "/v1/webhooks",
        WebhookIn,
        {"url": "https://93.184.216.34/hooks", "events": ["appointment.confirmed"]},
    ),
    ("POST", "/v1/campaigns/{draft}/test", SendTestIn, {"phone": "010-9876-5432"}),
]
DRAFT = "{draft}"  # a path naming a campaign draft the test makes first

# Strings inside typed mappings the walk does not enter.
EXTRA_PLACES: dict[type[BaseModel], list[Path]] = {
    TemplateIn: [("sources", "ko", "sms.txt"), ("sources", "ko", "email.html"), ("values", "fair.when")],
}


def _leaves(annotation: Any) -> Iterator[Any]:
    """The types an annotation stands for (through Optional, unions, lists and Annotated)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        yield from _leaves(typing.get_args(annotation)[0])
    elif origin in (typing.Union, types.UnionType, list):
        for arg in typing.get_args(annotation):
            yield from _leaves(arg)
    else:
        yield annotation


def string_paths(model: type[BaseModel], prefix: Path = ()) -> Iterator[Path]:
    """Where a string may go in a body of ``model``: its string fields, nested, and free-form data."""
    for name, field in model.model_fields.items():
        path = (*prefix, field.alias or name)
        for leaf in _leaves(field.annotation):
            if isinstance(leaf, type) and issubclass(leaf, BaseModel):
                yield from string_paths(leaf, path)
            elif typing.get_origin(leaf) is dict:
                yield (*path, FREE_FORM_KEY)
            elif leaf in (str, datetime, EmailStr) or typing.get_origin(leaf) is typing.Literal:
                yield path


def _place(body: dict[str, Any], path: Path, value: str, as_key: bool) -> dict[str, Any]:
    body = copy.deepcopy(body)
    target = body
    for part in path[:-1]:
        child = target.get(part)
        if not isinstance(child, dict):
            child = target[part] = {}
        target = child
    if as_key:
        target[value] = "x"
    else:
        target[path[-1]] = value
    return body


SPECIAL = [
    "\x00",
    "a\x00",
    "\ud800",
    "\udfff x",
    "\x01\x02\x1b[31m\x7f",
    "\u2028\u2029\ufeff\u200b",
    "\U0001f600\U00020000\U000e0001\U0010ffff",
    "a" * 100_000,
    "가" * 40_000,
]
ANY_CHARACTER = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=())
HOSTILE = st.one_of(st.sampled_from(SPECIAL), st.text(ANY_CHARACTER, max_size=40))


@pytest.fixture
def headers(ctx, make_key) -> dict[str, str]:
    ctx.clock = FrozenClock(NOW)
    key = make_key("send", "appointments", "campaigns", "templates", name="prop", owner="seosan-admin")
    return {"Authorization": f"Bearer {key}"}


@pytest.mark.parametrize(("method", "path", "model", "body"), REQUESTS, ids=[r[1] for r in REQUESTS])
def test_hostile_strings_in_any_field_never_break_the_api(client, ctx, headers, method, path, model, body):
    places = sorted({*string_paths(model), *EXTRA_PLACES.get(model, [])})
    assert places, model
    if DRAFT in path:
        draft = client.post("/v1/campaigns", json=campaign(), headers=headers)
        assert draft.status_code == 201, draft.json
        path = path.replace(DRAFT, draft.json["id"])

    @settings(
        max_examples=60,
        deadline=None,
        derandomize=True,  # the same examples in every run: CI never fails by chance
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(where=st.sampled_from(places), hostile=HOSTILE, as_key=st.booleans())
    def attempt(where: Path, hostile: str, as_key: bool) -> None:
        before = snapshot(ctx)
        text = json.dumps(
            _place(body, where, hostile, as_key and where[-1] == FREE_FORM_KEY), ensure_ascii=True
        )
        answer = client.open(
            path, method=method, data=text, headers={**headers, "Content-Type": "application/json"}
        )
        assert answer.status_code < 500, (where, hostile[:50], answer.get_data(as_text=True))
        if answer.status_code >= 400:
            assert answer.mimetype == "application/problem+json", answer.get_data(as_text=True)
            assert snapshot(ctx) == before, (where, hostile[:50], answer.status_code)

    attempt()
