"""Every answer the API gives is documented at /openapi.json: its status, its media type, its schema.

One walk through the whole API (the happy paths of each resource, then every refusal each
route documents) records every answer; each must be documented for its route and status and,
when JSON, validate against the documented schema. Every documented answer must be met on
the walk, but for the few listed in NOT_EXERCISED.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi
from sqlalchemy import select
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import FileStorage
from werkzeug.test import TestResponse

from notifier.consent.opt_out_links import opt_out_url
from notifier.domain.message_status import Status
from tests.factories import message_body
from tests.integration.test_appointments_api import NOW, booking
from tests.integration.test_templates_api import fair_template

JSON_TYPES = ("application/json", "application/problem+json")
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
# Documented answers the walk does not reach, and why.
NOT_EXERCISED = {
    ("/readyz", "get", "503"): "needs the database or the broker to be down",
    ("/outbox", "get", "200"): "shown only in a trial or with NOTIFIER_PUBLIC_OUTBOX (test_outbox.py)",
    (
        "/outbox/{entry_id}/html",
        "get",
        "200",
    ): "shown only in a trial or with NOTIFIER_PUBLIC_OUTBOX (test_outbox.py)",
    ("/v1/templates/{key}", "put", "409"): "needs two saves of one key racing",
    ("/v1/campaigns/{campaign_id}/test", "post", "409"): "needs a template version to vanish",
    **{
        ("/webhooks/solapi/{secret}", "post", code): "needs SOLAPI configured (test_solapi_reports.py)"
        for code in ("204", "400", "415", "422")
    },
}
# Routes this walk refuses only as a stranger would (403): the rest needs a configured provider.
PROVIDER_ONLY = ("/webhooks/solapi/",)


def openapi_path(rule: str) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)


@dataclass
class Walk:
    """A test client that checks each answer against the document and records what it met."""

    app: Flask
    client: FlaskClient
    spec: dict[str, Any]
    met: set[tuple[str, str, str]] = field(default_factory=set)

    def __call__(self, method: str, url: str, expect: int | None = None, **options: Any) -> TestResponse:
        response = self.client.open(url, method=method, **options)
        if expect is not None:
            assert response.status_code == expect, (method, url, response.status_code, response.data[:500])
        self.check(method, url.split("?", 1)[0], response)
        return response

    def check(self, method: str, path: str, response: TestResponse) -> None:
        rule, _ = self.app.url_map.bind("localhost").match(path, method=method, return_rule=True)
        route, status = openapi_path(rule.rule), str(response.status_code)
        operation = self.spec["paths"][route][method.lower()]
        answer = operation["responses"].get(status)
        assert answer is not None, f"{method} {route} answered {status}, which is not documented"
        self.met.add((route, method.lower(), status))
        content = answer.get("content", {})
        if response.mimetype in JSON_TYPES or content:
            assert response.mimetype in content, (method, route, status, response.mimetype, list(content))
        if response.mimetype in JSON_TYPES:
            schema = {**content[response.mimetype]["schema"], "components": self.spec["components"]}
            errors = [e.message for e in Draft202012Validator(schema).iter_errors(response.json)]
            assert errors == [], (method, route, status, errors, response.json)

    def documented(self) -> set[tuple[str, str, str]]:
        return {
            (path, method, status)
            for path, item in self.spec["paths"].items()
            for method, operation in item.items()
            for status in operation["responses"]
        }


@pytest.fixture
def walk(app, client) -> Walk:
    return Walk(app, client, client.get("/openapi.json").json)


def test_the_document_is_a_valid_openapi_3_1_document(walk) -> None:
    validate_openapi(walk.spec)
    assert walk.spec["openapi"].startswith("3.1")


def schema_of(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    return spec["components"]["schemas"][ref.rsplit("/", 1)[-1]] if ref else schema


def parameter(spec, path, method, name) -> dict[str, Any]:
    [found] = [p for p in spec["paths"][path][method]["parameters"] if p["name"] == name]
    return found


def test_the_document_states_the_rules_a_valid_request_must_meet(walk) -> None:
    spec = walk.spec
    statuses = [s.value for s in Status]
    for path in ("/v1/messages", "/v1/campaigns/{campaign_id}/messages"):
        assert schema_of(spec, parameter(spec, path, "get", "status")["schema"])["enum"] == statuses
    opt_out = schema_of(
        spec, spec["paths"]["/v1/opt-outs"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    )
    assert [rule["required"] for rule in opt_out["oneOf"]] == [["phone"], ["email"]]
    answer = spec["paths"]["/a/{token}/{answer}"]["post"]
    assert parameter(spec, "/a/{token}/{answer}", "post", "answer")["schema"]["enum"] == ["confirm", "change"]
    form = schema_of(spec, answer["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"])
    assert form["required"] == ["csrf_token"]
    assert answer["security"] == []
    external_id = parameter(spec, "/v1/appointments/{external_id}", "put", "external_id")
    assert external_id["schema"]["maxLength"] == 200
    upload = spec["paths"]["/v1/campaigns"]["post"]["requestBody"]["content"]
    assert set(upload) == {"application/json", "multipart/form-data"}
    assert (
        schema_of(spec, upload["multipart/form-data"]["schema"])["properties"]["file"]["format"] == "binary"
    )


def test_a_valid_opt_out_per_the_document_is_accepted_and_an_invalid_one_refused(walk, make_key) -> None:
    spec = walk.spec
    schema = {"$ref": "#/components/schemas/OptOutIn", "components": spec["components"]}
    campaigns = {"Authorization": f"Bearer {make_key('campaigns')}"}
    for body in (
        {"phone": "010-1234-5678", "scope": "advertising"},
        {"email": "hong@example.com", "scope": "all"},
        {"phone": "010-1234-5678", "email": None, "scope": "all"},
    ):
        assert Draft202012Validator(schema).is_valid(body)
        assert walk("POST", "/v1/opt-outs", json=body, headers=campaigns).status_code in (200, 201)
    for body in (
        {"scope": "all"},
        {"phone": "010-1234-5678", "email": "hong@example.com", "scope": "all"},
        {"phone": None, "scope": "all"},
    ):
        assert not Draft202012Validator(schema).is_valid(body)
        refused = walk("POST", "/v1/opt-outs", 422, json=body, headers=campaigns)
        assert refused.json["errors"] == [
            {"pointer": "", "detail": "give either phone or email (one address per opt-out)"}
        ]


def key(make_key, *scopes: str, owner: str = "seosan-admin") -> dict[str, str]:
    return {"Authorization": f"Bearer {make_key(*scopes, name=scopes[0], owner=owner)}"}


def twilio_post(walk, ctx, path, params, expect):
    signature = RequestValidator(ctx.settings.twilio.auth_token).compute_signature(
        ctx.settings.public_url + path, params
    )
    return walk("POST", path, expect, data=params, headers={"X-Twilio-Signature": signature})


def walk_the_happy_paths(walk: Walk, ctx, clock, make_key) -> dict[str, str]:
    """Use every resource as a client would; returns the ids made, for the refusals."""
    admin = key(make_key, "admin")
    walk("GET", "/openapi.json", 200)
    walk("GET", "/healthz", 200)
    walk("GET", "/readyz", 200)
    walk("GET", "/v1/centers", 200, headers=admin)

    message = walk("POST", "/v1/messages", 202, json=message_body(), headers=admin).json
    walk("GET", f"/v1/messages/{message['id']}", 200, headers=admin)
    walk("GET", "/v1/messages?status=queued&limit=1", 200, headers=admin)

    walk("GET", "/v1/templates", 200, headers=admin)
    walk("GET", "/v1/templates/appointment_confirmation?version=1", 200, headers=admin)
    walk("GET", "/v1/templates/appointment_confirmation/versions", 200, headers=admin)
    walk("PUT", "/v1/templates/job_fair", 201, json=fair_template(), headers=admin)
    walk("PUT", "/v1/templates/job_fair", 200, json=fair_template(description="두 번째"), headers=admin)
    for channel in ("sms", "email"):
        walk("POST", "/v1/templates/job_fair/preview", 200, json={"channel": channel}, headers=admin)

    appointment = walk("PUT", "/v1/appointments/b-1", 201, json=booking(), headers=admin).json
    walk("PUT", "/v1/appointments/b-1", 200, json=booking(), headers=admin)
    walk("PUT", "/v1/appointments/b-1", 409, json=booking(version=0, duration_minutes=30), headers=admin)
    walk("GET", "/v1/appointments/b-1", 200, headers=admin)
    walk("GET", "/v1/appointments?center=seosan", 200, headers=admin)
    page = "/a/" + appointment["page_url"].rsplit("/a/", 1)[1]
    html = walk("GET", page, 200).get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    walk("POST", f"{page}/confirm", 400, data={})
    walk("POST", f"{page}/confirm", 303, data={"csrf_token": csrf})
    walk("POST", f"{page}/maybe", 404, data={"csrf_token": csrf})
    walk("GET", "/a/not-a-token", 404)
    walk("GET", f"/s/{short_code(ctx, appointment['id'])}", 302)
    walk("GET", "/s/AAAAAAAAAAA", 404)
    walk("DELETE", "/v1/appointments/b-1", 200, headers=admin)
    walk("POST", f"{page}/change", 409, data={"csrf_token": csrf})
    later = walk("PUT", "/v1/appointments/b-2", 201, json=booking(), headers=admin).json
    later_page = "/a/" + later["page_url"].rsplit("/a/", 1)[1]
    cancelled_late = {"outcome": "late_cancellation", "recorded_at": "2026-12-01T09:30:00+09:00"}
    walk("POST", "/v1/appointments/b-2/outcome", 200, json=cancelled_late, headers=admin)
    earlier = {**cancelled_late, "recorded_at": "2026-12-01T09:00:00+09:00"}
    walk("POST", "/v1/appointments/b-2/outcome", 409, json=earlier, headers=admin)
    walk("POST", "/v1/appointments/never-stored/outcome", 404, json=earlier, headers=admin)
    walk("GET", "/v1/reports/attendance?group_by=center,kind", 200, headers=admin)
    walk("GET", "/v1/reports/attendance?format=csv", 200, headers=admin)
    trial = {
        "center": "seosan",
        "name": "비교",
        "arms": [{"plan": "24h,2h", "share": 0.5}, {"plan": "48h,3h", "share": 0.5}],
    }
    experiment = walk("POST", "/v1/experiments", 201, json=trial, headers=admin).json
    walk("POST", "/v1/experiments", 409, json=trial, headers=admin)
    walk("GET", f"/v1/experiments/{experiment['id']}", 200, headers=admin)
    walk("GET", f"/v1/experiments/{experiment['id']}/report", 200, headers=admin)
    walk("POST", f"/v1/experiments/{experiment['id']}/stop", 200, headers=admin)

    hook = {"url": "http://127.0.0.1:9/hook", "events": ["appointment.confirmed"]}
    walk("GET", "/v1/webhooks", 404, headers=admin)
    walk("PUT", "/v1/webhooks", 201, json=hook, headers=admin)
    walk("PUT", "/v1/webhooks", 200, json=hook, headers=admin)
    walk("GET", "/v1/webhooks", 200, headers=admin)
    walk("PUT", "/v1/webhooks", 403, json=hook, headers=key(make_key, "send"))  # not its events' scope

    walk("PUT", "/v1/recipients/r-1", 201, json={"name": "홍길동", "phone": "010-1234-5678"}, headers=admin)
    walk(
        "PUT", "/v1/recipients/r-1", 200, json={"name": "홍길동", "email": "hong@example.com"}, headers=admin
    )
    walk("GET", "/v1/recipients/r-1", 200, headers=admin)
    walk("DELETE", "/v1/recipients/r-1", 204, headers=admin)
    walk("POST", "/v1/opt-outs", 201, json={"phone": "010-9999-8888", "scope": "all"}, headers=admin)
    walk("POST", "/v1/opt-outs", 200, json={"phone": "010-9999-8888", "scope": "all"}, headers=admin)

    body = {
        "name": "12월 안내",
        "template": "program_announcement_jobseekers",
        "category": "informational",
        "center": "seosan",
        "channel": "sms",
    }
    campaign = walk(
        "POST", "/v1/campaigns", 201, json={**body, "recipients": [{"phone": "010-2345-6789"}]}, headers=admin
    ).json
    csv_file = FileStorage(io.BytesIO(b"phone,name\n010-2345-6789,A\nnot-a-phone,B\n"), filename="list.csv")
    uploaded = walk("POST", "/v1/campaigns", 201, data={**body, "file": csv_file}, headers=admin).json
    walk("GET", f"/v1/campaigns/{uploaded['id']}/rejections.csv", 200, headers=admin)
    walk("GET", f"/v1/campaigns/{campaign['id']}", 200, headers=admin)
    walk("GET", "/v1/campaigns?limit=1", 200, headers=admin)
    walk("POST", f"/v1/campaigns/{campaign['id']}/test", 202, json={"phone": "010-3456-7890"}, headers=admin)
    walk("POST", f"/v1/campaigns/{campaign['id']}/start", 200, json={}, headers=admin)
    walk("GET", f"/v1/campaigns/{campaign['id']}/messages", 200, headers=admin)
    walk("POST", f"/v1/campaigns/{campaign['id']}/start", 409, json={}, headers=admin)
    walk("POST", f"/v1/campaigns/{campaign['id']}/cancel", 200, headers=admin)
    walk("POST", f"/v1/campaigns/{campaign['id']}/cancel", 409, headers=admin)

    link = opt_out_url(ctx, "seosan-admin", "email", "hong@example.com")
    token_path = "/u/" + link.rsplit("/u/", 1)[1]
    walk("GET", token_path, 200)
    walk("POST", token_path, 200, data={"confirm": "1"})
    walk("POST", token_path, 200, data={"List-Unsubscribe": "One-Click"})
    walk("GET", "/u/not-a-token", 404)
    walk("POST", "/u/not-a-token", 404, data={"List-Unsubscribe": "One-Click"})
    walk("POST", "/u/not-a-token", 404, data={"confirm": "1"})

    inbound = {"From": "+821011112222", "To": "+82416615676", "Body": "안녕하세요"}
    twilio_post(walk, ctx, "/webhooks/twilio/inbound", inbound, 200)
    status = {"MessageSid": "SM0", "MessageStatus": "delivered"}
    twilio_post(walk, ctx, f"/webhooks/twilio/status?message_id={message['id']}", status, 204)
    walk("POST", "/webhooks/twilio/inbound", 403, data=inbound)
    walk("POST", "/webhooks/twilio/status", 403, data=status)
    walk("POST", "/webhooks/solapi/not-the-secret", 403, json=[])
    walk("GET", "/outbox", 404)
    walk("GET", "/outbox/1/html", 404)

    created_key = walk(
        "POST", "/v1/keys", 201, json={"name": "booking", "scopes": ["send"]}, headers=admin
    ).json
    walk("GET", "/v1/keys", 200, headers=admin)
    walk("DELETE", f"/v1/keys/{created_key['id']}", 204, headers=admin)

    clock.now = NOW + timedelta(days=30)  # after every appointment: the person's links are gone
    walk("GET", later_page, 410)
    walk("GET", f"/s/{short_code(ctx, later['id'])}", 410)
    walk("POST", f"{later_page}/confirm", 410, data={"csrf_token": csrf})
    return {
        "campaign_id": campaign["id"],
        "message_id": message["id"],
        "experiment_id": experiment["id"],
        "key_id": created_key["id"],
    }


def short_code(ctx, appointment_id: str) -> str:
    """The short link code the appointment's SMS carry."""
    from notifier.appointments.tables import short_links

    with ctx.engine.connect() as conn:
        query = select(short_links.c.code).where(short_links.c.appointment_id == appointment_id)
        return str(conn.execute(query).scalar_one())


def fill(path: str, ids: dict[str, str], known: bool) -> str:
    """A concrete URL for ``path``: ids that exist when ``known``, else ones that never did."""
    values = {
        "campaign_id": ids["campaign_id"] if known else UNKNOWN_ID,
        "message_id": ids["message_id"] if known else UNKNOWN_ID,
        "experiment_id": ids["experiment_id"] if known else UNKNOWN_ID,
        "key_id": ids["key_id"] if known else UNKNOWN_ID,
        "external_id": "b-2" if known else "never-stored",
        "key": "job_fair" if known else "no_such_template",
        "token": "not-a-token",
        "answer": "confirm",
        "entry_id": "1",
        "secret": "not-the-secret",
        "code": "AAAAAAAAAAA",
    }
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)


def walk_the_refusals(walk: Walk, ctx, make_key, ids: dict[str, str]) -> None:
    """Give each route every refusal it documents: no key, a key without the scope, bad bodies."""
    big = "x" * (ctx.settings.max_body_bytes + 1)
    for path, item in walk.spec["paths"].items():
        if path.startswith(PROVIDER_ONLY):
            continue
        for method, operation in item.items():
            answers, verb = operation["responses"], method.upper()
            url = fill(path, ids, known=True)
            json_body = "application/json" in operation.get("requestBody", {}).get("content", {})
            if "401" in answers:
                walk(verb, url, 401, json={})
            if "403" in answers and operation["security"] and operation["security"][0]["bearerAuth"]:
                scope = operation["security"][0]["bearerAuth"][0]
                other = "templates" if scope != "templates" else "send"
                walk(verb, url, 403, json={}, headers=key(make_key, other))
            admin = key(make_key, "admin")
            if "404" in answers and "{" in path and operation["security"]:
                walk(verb, fill(path, ids, known=False), None, json={}, headers=admin)
            if json_body and "415" in answers:
                walk(verb, url, 415, data="hello", content_type="text/plain", headers=admin)
            if json_body and "400" in answers:
                walk(verb, url, 400, data="{", content_type="application/json", headers=admin)
            if json_body and "413" in answers:
                walk(verb, url, 413, json={"name": big}, headers=admin)
            if "422" in answers:
                if json_body:
                    walk(verb, url, 422, json={"not_a_field": 1}, headers=admin)
                elif path.startswith("/webhooks/twilio/"):  # no query of its own: the NUL check's 422
                    walk(verb, f"{url}?note=%00", 422, headers=admin)
                else:
                    walk(verb, f"{url}?limit=0&version=0&status=lost", 422, headers=admin)


def test_every_answer_is_documented_and_matches_its_schema(walk, ctx, clock, make_key) -> None:
    ids = walk_the_happy_paths(walk, ctx, clock, make_key)
    clock.now = NOW
    walk_the_refusals(walk, ctx, make_key, ids)
    not_met = walk.documented() - walk.met
    assert not_met == set(NOT_EXERCISED), json.dumps(sorted(not_met - set(NOT_EXERCISED)))


def test_answers_are_generated_from_the_models_not_written_by_hand(walk) -> None:
    schemas = walk.spec["components"]["schemas"]
    message = schemas["Message"]
    assert schema_of(walk.spec, message["properties"]["status"])["enum"] == [s.value for s in Status]
    assert "history" not in message["required"]  # only when one message is asked for
    assert schemas["Problem"]["required"] == ["type", "title", "status", "detail", "instance"]
    created_at = schemas["OptOut"]["properties"]["created_at"]
    assert (created_at["type"], created_at["format"]) == ("string", "date-time")


def test_the_document_is_the_same_for_every_app_the_factory_builds(walk, ctx) -> None:
    from notifier import create_app

    other = create_app(ctx=ctx)
    try:
        assert other.test_client().get("/openapi.json").json == walk.spec
    finally:
        other.extensions["publisher"].close()


def test_no_route_of_spectree_itself_is_served(app) -> None:
    assert not [rule.rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/apidoc")]
