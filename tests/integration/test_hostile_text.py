"""Text the database cannot store (NUL, lone surrogates) and numbers JSON cannot carry (NaN,
infinities) are refused at the door with a 422 naming them, wherever they are; nothing changes."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from notifier.tables import metadata
from tests.factories import message_body
from tests.integration.test_appointments_api import NOW, booking
from tests.integration.test_campaigns_api import campaign
from tests.integration.test_delivery import FrozenClock
from tests.integration.test_recipients_api import recipient_body
from tests.integration.test_templates_api import fair_template

PROBLEM = "application/problem+json"
NUL = "a\x00b"
SURROGATE = "a\ud800b"


@pytest.fixture
def headers(ctx, make_key) -> dict[str, str]:
    ctx.clock = FrozenClock(NOW)  # before the appointments the tests book
    key = make_key("send", "appointments", "campaigns", "templates", name="hostile", owner="seosan-admin")
    return {"Authorization": f"Bearer {key}"}


def snapshot(ctx) -> dict[str, int]:
    """How many rows every table holds."""
    with ctx.engine.connect() as conn:
        return {
            table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in metadata.sorted_tables
        }


def send_raw(client, method: str, path: str, text: str, headers: dict[str, str]):
    """Send ``text`` as the JSON body as it is (escapes such as \\u0000 stay escapes)."""
    return client.open(
        path, method=method, data=text, headers={**headers, "Content-Type": "application/json"}
    )


def refused(answer, pointer: str, status: int = 422) -> None:
    assert answer.status_code == status, answer.get_data(as_text=True)
    assert answer.mimetype == PROBLEM
    pointers = [e["pointer"] for e in answer.json.get("errors", [])]
    assert pointer in pointers, answer.json


def place(body: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    body = json.loads(json.dumps(body))
    target = body
    for part in path[:-1]:
        target = target.setdefault(part, {})
    target[path[-1]] = value
    return body


# Each request: method, path, a valid body, and where in it the hostile string goes.
PLACES = [
    ("POST", "/v1/messages", message_body(), ("reference",)),
    ("POST", "/v1/messages", message_body(), ("to", "name")),
    ("POST", "/v1/messages", message_body(), ("center", "name")),
    ("POST", "/v1/messages", message_body(), ("data", "appointment", "location")),
    ("POST", "/v1/messages", message_body(), ("data", "memo")),
    ("PUT", "/v1/appointments/hostile-1", booking(), ("location",)),
    ("PUT", "/v1/appointments/hostile-1", booking(), ("counselor",)),
    ("PUT", "/v1/appointments/hostile-1", booking(), ("recipient", "name")),
    ("PUT", "/v1/recipients/r-1", recipient_body(), ("name",)),
    ("POST", "/v1/campaigns", campaign(), ("name",)),
    ("POST", "/v1/campaigns", campaign(), ("data", "deadline")),
    ("PUT", "/v1/templates/job_fair", fair_template(), ("description",)),
]


@pytest.mark.parametrize("hostile", [NUL, SURROGATE], ids=["nul", "surrogate"])
@pytest.mark.parametrize(("method", "path", "body", "where"), PLACES, ids=lambda p: str(p))
def test_an_unstorable_string_anywhere_in_a_body_is_a_422_naming_it(
    client, ctx, headers, hostile, method, path, body, where
) -> None:
    before = snapshot(ctx)
    text = json.dumps(place(body, where, hostile), ensure_ascii=True)  # "\u0000", "\ud800" as escapes
    refused(send_raw(client, method, path, text, headers), "/" + "/".join(where))
    assert snapshot(ctx) == before


def test_a_template_source_with_a_nul_is_refused_before_it_is_stored(client, ctx, headers) -> None:
    before = snapshot(ctx)
    body = fair_template()
    body["sources"]["ko"]["sms.txt"] = "{{ fair.when }}\x00"
    text = json.dumps(body, ensure_ascii=True)
    refused(send_raw(client, "PUT", "/v1/templates/job_fair", text, headers), "/sources/ko/sms.txt")
    assert snapshot(ctx) == before


def test_an_unstorable_key_inside_data_is_named_by_its_pointer(client, ctx, headers) -> None:
    before = snapshot(ctx)
    text = json.dumps(message_body(data={"a\x00b": "x", "ok": {"\ud800": 1}}), ensure_ascii=True)
    answer = send_raw(client, "POST", "/v1/messages", text, headers)
    assert answer.status_code == 422, answer.json
    pointers = [e["pointer"] for e in answer.json["errors"]]
    assert pointers == ["/data/a\ufffdb", "/data/ok/?"], pointers
    assert snapshot(ctx) == before


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999999", "-1e999999"])
def test_numbers_json_cannot_carry_are_refused(client, ctx, headers, number) -> None:
    before = snapshot(ctx)
    text = json.dumps(message_body(data={"count": 0})).replace('"count": 0', f'"count": {number}')
    assert number in text
    refused(send_raw(client, "POST", "/v1/messages", text, headers), "/data/count")
    campaign_text = json.dumps(campaign(data={"n": 0})).replace('"n": 0', f'"n": {number}')
    refused(send_raw(client, "POST", "/v1/campaigns", campaign_text, headers), "/data/n")
    assert snapshot(ctx) == before


@pytest.mark.parametrize(
    "path",
    [
        "/v1/messages/%00",
        "/v1/appointments/a%00b",
        "/v1/recipients/%00",
        "/v1/campaigns/%00",
        "/v1/campaigns/%00/messages",
        "/v1/templates/%00",
        "/v1/messages/%ED%A0%80",
    ],
)
def test_a_nul_in_a_path_is_a_404_problem_not_a_server_error(client, ctx, headers, path) -> None:
    before = snapshot(ctx)
    for method in ("GET", "PUT", "DELETE", "POST"):
        answer = client.open(path, method=method, json={}, headers=headers)
        assert answer.status_code in (404, 405, 422), (method, answer.status_code, answer.get_data())
        assert answer.mimetype == PROBLEM
    assert snapshot(ctx) == before


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/v1/messages?reference=%00", "/reference"),
        ("/v1/appointments?center=%00", "/center"),
        ("/v1/appointments?center=a%00", "/center"),
        ("/v1/campaigns/x/messages?cursor=%00", "/cursor"),
        ("/v1/templates/appointment_reminder?version=1%00", "/version"),
    ],
)
def test_a_nul_in_the_query_string_is_a_422_naming_the_parameter(client, headers, path, name) -> None:
    refused(client.get(path, headers=headers), name)


UPLOAD = {"name": "12월 안내", "template": "program_announcement_jobseekers", "category": "informational"}


def upload(client, headers, content: bytes, **fields: str):
    form: dict[str, Any] = {**UPLOAD, "center": "seosan", "channel": "sms", **fields}
    form["file"] = FileStorage(io.BytesIO(content), filename="list.csv", content_type="text/csv")
    boundary, body = encode_multipart(form)
    return client.post(
        "/v1/campaigns", data=body, headers=headers, content_type=f"multipart/form-data; boundary={boundary}"
    )


LIST = b"phone,name\n010-2345-6789,hong\n"


@pytest.mark.parametrize(
    ("fields", "pointer"),
    [
        ({"name": NUL}, "/name"),
        ({"center": "seo\x00san"}, "/center"),
        ({"data": '{"deadline": "a\\u0000b"}'}, "/data/deadline"),
        ({"data": '{"a\\u0000": "b"}'}, "/data/a\ufffd"),
        ({"data": '{"n": NaN}'}, "/data/n"),
    ],
)
def test_an_unstorable_form_field_of_an_upload_is_refused(client, ctx, headers, fields, pointer) -> None:
    before = snapshot(ctx)
    refused(upload(client, headers, LIST, **fields), pointer)
    assert snapshot(ctx) == before


def test_a_csv_row_with_a_nul_is_rejected_with_its_line_and_the_others_kept(client, ctx, headers) -> None:
    content = b"phone,name\n010-2345-6789,hong\n010-2345-6790,k\x00im\n010-2345-6791,lee\n"
    answer = upload(client, headers, content)
    assert answer.status_code == 201, answer.json
    report = answer.json["report"]
    assert (report["rows"], report["usable"], report["rejected"]["count"]) == (3, 2, 1)
    assert report["rejected"]["items"] == [{"row": 3, "reason": "line 3: contains a NUL character"}]
    rejections = client.get(f"/v1/campaigns/{answer.json['id']}/rejections.csv", headers=headers)
    assert "k\ufffdim" in rejections.get_data(as_text=True)


def test_a_csv_header_with_a_nul_refuses_the_file(client, ctx, headers) -> None:
    before = snapshot(ctx)
    refused(upload(client, headers, b"phone,na\x00me\n010-2345-6789,hong\n"), "/file")
    assert snapshot(ctx) == before


def test_a_bad_key_of_a_mapping_is_named_by_the_key_itself(client, ctx, headers) -> None:
    body = fair_template()
    body["sources"]["Korean"] = body["sources"]["ko"]
    answer = client.put("/v1/templates/job_fair", json=body, headers=headers)
    refused(answer, "/sources/Korean")
    assert not any("[key]" in e["pointer"] for e in answer.json["errors"])
