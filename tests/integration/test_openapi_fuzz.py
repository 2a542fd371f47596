"""Schemathesis against /openapi.json: requests the document describes, valid and not, get no
server error and no answer that breaks its documented schema, status codes or media type, and
every request the document calls valid is accepted (but for the rules stated in words below).
Template and centre keys are real ones, so requests reach the deep paths.

The operations are walked in the test (schemathesis' lazy pytest loader does not run under
this pytest), each with a Hypothesis strategy of valid and of invalid requests.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode, checks

from tests.integration.test_appointments_api import NOW
from tests.integration.test_delivery import FrozenClock

TEMPLATE = "program_announcement_jobseekers"
# What /v1/messages sends: a plain message needing no values (an announcement goes only as a campaign).
MESSAGE_TEMPLATE = "fuzz_notice"
CENTER = "seosan"
EXAMPLES = 40  # per operation and mode: about 30 operations


def _real_keys(case: Any) -> None:
    """Use keys that exist where the document only says "a string"."""
    if case.path_parameters and "key" in case.path_parameters:
        case.path_parameters["key"] = TEMPLATE
    if isinstance(case.body, dict):
        if isinstance(case.body.get("template"), str):
            case.body["template"] = MESSAGE_TEMPLATE if case.path == "/v1/messages" else TEMPLATE
        if isinstance(case.body.get("center"), str):
            case.body["center"] = CENTER
        for nested in ("center", "filter"):  # a message's centre, a campaign's filter
            part = case.body.get(nested)
            if isinstance(part, dict) and isinstance(
                part.get("code" if nested == "center" else "center"), str
            ):
                part["code" if nested == "center" else "center"] = CENTER


# Rules a valid request must also meet that JSON Schema cannot state (they depend on the clock,
# on what the API returned before, on a country's numbering plan or on a file's content). The
# document states each in words (the phrase); a schema-valid request may be refused with 422
# only when every error it names is one of these. Everything else a valid request must meet is
# in the schema itself (enums, patterns, lengths, the phone-or-email rule), so any other refusal
# of a valid request fails the test.
STATED_RULES = [
    # (pointer, detail, phrase of the document that states the rule)
    (r"/cursor", r"not a cursor this API returned", "pass a `next_cursor` this API returned"),
    (r"/starts_at", r"must be in the future", "must be in the future"),
    (
        r"(/[a-z_]+)*/(phone|sms_sender|opt_out_number)",
        r".*(phone number|mobile number|country code|calling code).*",
        "numbering plan",
    ),
    (
        r"(/[^/]*)+",
        r"(the (query parameter|key) )?must not contain (the NUL character|a lone surrogate) .*",
        "lone surrogate",
    ),
    (
        r"(/[a-z_]+)*/(email|email_sender|reply_to)",
        r"value is not a valid email address: .*",
        "reserved for special use (RFC 6761",
    ),
    (r"", r"this Idempotency-Key was used with a different request body", "another body is refused (422)"),
    (r"/center/(sms|email)_sender", r"not a registered sender; .*", "a sender some registered centre has"),
    (r"/consents/[a-z_]+/given_at", r"is in the future", "not in the future (422 otherwise)"),
    (r"/consents/[a-z_]+/reconfirmed_at", r"is before given_at", "not before `given_at` (422 otherwise)"),
    (r"/data", r"SMS cannot carry .*", "must be in cp949"),
    (r"/send_at", r"must be within a year from now", "at most a year ahead (422 otherwise)"),
    (r"/send_at", r"has passed: .*", "one 24 hours or more in the past has passed its validity window"),
    (
        r"/template",
        r"template '[^']*' is an announcement; announcements are sent as campaigns .*",
        "`announcement` is refused (422): announcements are sent as",
    ),
    # In the schema too (if/then), but schemathesis does not apply if/then to a multipart form.
    (
        r"/opt_out_number",
        r"an advertising SMS needs the centre's free 080 opt-out number",
        "required for advertising SMS",
    ),
    (
        r"/channel",
        r"template '[^']*' has no (sms|email|kakao|AlimTalk) variant",
        "one the template has a variant for (422 otherwise)",
    ),
    (
        r"/outcome",
        r".* can be recorded only after the appointment starts|the appointment was cancelled; .*",
        "only once the appointment has started; a cancelled appointment takes only",
    ),
    (
        r"/recorded_at",
        r"must not be in the future|must not be before the appointment starts",
        "Not in the future, and for attended or no_show not before the start (422 otherwise)",
    ),
    (r"/file", r".+", "or without a row after it, is refused (422)"),
    (
        r"/data",
        r".*JSON.*|Input should be a valid dictionary",
        "a JSON object: template values common to all (else 422)",
    ),
]


def _stated(error: dict[str, Any]) -> bool:
    return any(
        re.fullmatch(pointer, error.get("pointer", "")) and re.fullmatch(detail, error.get("detail", ""))
        for pointer, detail, _phrase in STATED_RULES
    )


def add_message_template(app: Any, headers: dict[str, str]) -> None:
    """A centre's own plain message template, for the requests to /v1/messages."""
    layout = '{% extends "_layout/ko/email.html" %}{% block content %}<p>안내입니다.</p>{% endblock %}'
    body = {
        "description": "안내 (Notice)",
        "purpose": "message",
        "channels": ["sms", "email"],
        "values": {},
        "sample": {
            "center": {"name": "서산고용복지+센터", "phone": "041-661-5676"},
            "recipient": {"name": "홍길동"},
        },
        "sources": {
            "ko": {
                "sms.txt": "{{ center.name }} 안내입니다. 문의: {{ center.phone }}",
                "email_subject.txt": "[{{ center.name }}] 안내",
                "email.html": layout,
                "email.txt": "안내입니다. 문의: {{ center.phone }}",
            }
        },
    }
    response = app.test_client().put(f"/v1/templates/{MESSAGE_TEMPLATE}", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()


def valid_requests_accepted(ctx: Any, response: Any, case: Any) -> bool | None:
    """Schemathesis' positive_data_acceptance, with 422 allowed for the stated rules only."""
    positive = case.meta is not None and case.meta.generation.mode.is_positive
    if positive and response.status_code == 422:
        errors = response.json().get("errors") or []
        if errors and all(_stated(error) for error in errors):
            return None
    return checks.positive_data_acceptance(ctx, response, case)


CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    valid_requests_accepted,
]


def test_the_document_states_the_rules_its_schemas_cannot(client) -> None:
    document = json.dumps(client.get("/openapi.json").get_json(), ensure_ascii=False)
    assert [phrase for _p, _d, phrase in STATED_RULES if phrase not in document] == []


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_the_api_keeps_the_promises_of_its_openapi_document(app, ctx, make_key, mode) -> None:
    ctx.clock = FrozenClock(NOW)
    key = make_key("send", "appointments", "campaigns", "templates", name="fuzz", owner="seosan-admin")
    headers = {"Authorization": f"Bearer {key}"}
    add_message_template(app, headers)
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    # No values harvested from the source of the modules loaded so far: which those are depends on
    # the tests run before (the same examples in every run), and schemathesis puts them into form
    # fields without their enum (a multipart `channel` of "[-. ]?", from the phone masking regex).
    schema.config.analysis.constants.enabled = False
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,  # the same examples in every run: CI never fails by chance
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def attempt(case: Any) -> None:
            _real_keys(case)
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            attempt()
        except Unsatisfiable:  # an operation without inputs has no invalid request to make
            continue
        except (
            Exception,
            BaseExceptionGroup,
        ) as exc:  # collect every operation's failure, then report them together
            failures.append(f"{operation.label}: {type(exc).__name__}: {exc}"[:3000])
    assert not failures, "\n\n".join(failures)
