"""The OpenAPI document matches the routes and the real responses."""

from __future__ import annotations

import re

import jsonschema
import pytest
from jsonschema import Draft202012Validator

from tests.factories import message_body


@pytest.fixture
def spec(client):
    return client.get("/openapi.json").json


def openapi_path(rule: str) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)


def test_every_route_is_documented_and_every_documented_route_exists(app, spec) -> None:
    # The staff console (/console) is HTML pages behind a sign-in, not part of the API.
    routes = {
        (openapi_path(rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static" and not rule.rule.startswith("/console")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    documented = {(path, method) for path, item in spec["paths"].items() for method in item}
    assert routes == documented


def validator(spec, name):
    schema = {"$ref": f"#/components/schemas/{name}", "components": spec["components"]}
    return Draft202012Validator(schema)


def test_real_responses_match_the_documented_schemas(client, auth, spec) -> None:
    created = client.post("/v1/messages", json=message_body(), headers=auth)
    validator(spec, "Message").validate(created.json)
    shown = client.get(f"/v1/messages/{created.json['id']}", headers=auth)
    validator(spec, "Message").validate(shown.json)
    validator(spec, "MessageList").validate(client.get("/v1/messages", headers=auth).json)
    problem = client.post("/v1/messages", json={"template": ""}, headers=auth)
    validator(spec, "Problem").validate(problem.json)


def test_request_schema_is_the_one_the_api_validates_with(spec) -> None:
    schema = {"$ref": "#/components/schemas/MessageIn", "components": spec["components"]}
    jsonschema.validate(message_body(), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**message_body(), "channel": "fax"}, schema)


def test_health_endpoints(client) -> None:
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.json
    assert ready.json["checks"] == {"database": "ok", "broker": "ok"}


def test_the_readable_reference_mentions_every_documented_path(spec) -> None:
    from pathlib import Path

    page = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text(encoding="utf-8")
    assert [path for path in spec["paths"] if f"`{path}" not in page and f" {path}" not in page] == []
