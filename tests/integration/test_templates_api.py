"""The template library over HTTP: read, edit (a new version each time), preview, and refusals."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from notifier.messages import repository as message_repo
from notifier.templates.library import PREVIEW_OPT_OUT_LINE
from tests.factories import appointment_data, message_body

SHIPPED = [
    "appointment_cancellation",
    "appointment_change",
    "appointment_confirmation",
    "appointment_reminder",
    "opt_out_confirmation",
    "program_announcement_employers",
    "program_announcement_jobseekers",
]
CENTER = {"name": "서산고용복지+센터", "phone": "041-661-5676", "address": ""}


def fair_template(**changes: Any) -> dict[str, Any]:
    """A valid request body for a new template: a job fair announcement."""
    body: dict[str, Any] = {
        "description": "취업박람회 안내 (Job fair)",
        "purpose": "announcement",
        "channels": ["sms", "email"],
        "values": {"fair.when": "start, formatted", "fair.place": "where", "fair.note": "extra line"},
        "optional": ["fair.note"],
        "sample": {
            "center": CENTER,
            "recipient": {"name": "홍길동"},
            "fair": {"when": "12월 10일(수) 오후 2시", "place": "센터 대강당"},
        },
        "sources": {
            "ko": {
                "sms.txt": "{{ center.name }} 취업박람회 안내\n"
                "- 일시: {{ fair.when }}\n- 장소: {{ fair.place }}\n"
                "{% if fair.note %}{{ fair.note }}\n{% endif %}문의: {{ center.phone }}",
                "email_subject.txt": "[{{ center.name }}] 취업박람회 안내",
                "email.html": '{% extends "_layout/ko/email.html" %}{% block title %}취업박람회 안내'
                "{% endblock %}{% block content %}<p>{{ fair.when }}, {{ fair.place }}</p>{% endblock %}",
                "email.txt": "{{ fair.when }}, {{ fair.place }}\n문의: {{ center.phone }}",
            }
        },
    }
    body.update(changes)
    return body


def with_part(body: dict[str, Any], part: str, source: str, locale: str = "ko") -> dict[str, Any]:
    body = copy.deepcopy(body)
    body["sources"].setdefault(locale, {})[part] = source
    return body


def as_edit(stored: dict[str, Any]) -> dict[str, Any]:
    """Turn a GET response into a PUT body."""
    meta = ("key", "version", "created_at", "created_by", "saved_by")
    return copy.deepcopy({k: v for k, v in stored.items() if k not in meta})


@pytest.fixture
def editor(make_key) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_key('templates', name='template-desk', owner='seosan-admin')}"}


@pytest.fixture
def admin_editor(make_key) -> dict[str, str]:
    """A key that may change the shipped templates too."""
    key = make_key("templates", "admin", name="template-admin", owner="seosan-admin")
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def spec(client) -> dict[str, Any]:
    return client.get("/openapi.json").json


def conforms(spec: dict[str, Any], name: str, body: Any) -> None:
    schema = {"$ref": f"#/components/schemas/{name}", "components": spec["components"]}
    Draft202012Validator(schema).validate(body)


def versions_of(client, headers, key: str) -> list[int]:
    response = client.get(f"/v1/templates/{key}/versions", headers=headers)
    assert response.status_code == 200, response.json
    return [item["version"] for item in response.json["items"]]


def refusal(response, status: int = 422) -> dict[str, str]:
    """The problem's errors as {pointer: detail}."""
    assert response.status_code == status, response.json
    assert response.mimetype == "application/problem+json"
    return {e["pointer"]: e["detail"] for e in response.json.get("errors", [])}


def test_the_published_request_schemas_are_the_ones_the_api_validates_with(spec) -> None:
    template_in = {"$ref": "#/components/schemas/TemplateIn", "components": spec["components"]}
    Draft202012Validator(template_in).validate(fair_template())
    for wrong in (fair_template(purpose="spam"), with_part(fair_template(), "push.txt", "x")):
        assert not Draft202012Validator(template_in).is_valid(wrong)
    preview_in = {"$ref": "#/components/schemas/PreviewIn", "components": spec["components"]}
    Draft202012Validator(preview_in).validate({"channel": "email", "locale": "en", "advertising": True})
    assert not Draft202012Validator(preview_in).is_valid({"channel": "fax"})


# ---- reading -------------------------------------------------------------------------


def test_the_list_shows_every_shipped_template_at_version_1(client, editor, spec) -> None:
    response = client.get("/v1/templates", headers=editor)
    assert response.status_code == 200
    conforms(spec, "TemplateList", response.json)
    items = response.json["items"]
    assert [i["key"] for i in items] == SHIPPED
    assert {i["version"] for i in items} == {1}
    assert all(i["locales"] == ["en", "ko"] and i["channels"] == ["sms", "email"] for i in items)


def test_a_template_reads_with_its_spec_sources_and_author(client, editor, spec) -> None:
    response = client.get("/v1/templates/appointment_reminder", headers=editor)
    assert response.status_code == 200
    conforms(spec, "Template", response.json)
    body = response.json
    assert (body["key"], body["version"], body["created_by"]) == ("appointment_reminder", 1, "shipped")
    assert body["purpose"] == "reminder"
    assert "appointment.when" in body["values"]
    assert set(body["optional"]) == {
        "appointment.counselor",
        "appointment.link",
        "appointment.when",
        "appointment.starts_at",
        "appointment.duration",
        "appointment.duration_minutes",
    }
    assert body["one_of"] == [
        ["appointment.when", "appointment.starts_at"],
        ["appointment.duration", "appointment.duration_minutes"],
    ]
    assert set(body["sources"]) == {"ko", "en"}
    assert "{{ appointment.when or (appointment.starts_at | when) }}" in body["sources"]["ko"]["sms.txt"]


def test_unknown_templates_and_versions_are_404(client, editor) -> None:
    for path in ("/v1/templates/job_fair", "/v1/templates/job_fair/versions", "/v1/templates/Bad%20Key"):
        assert client.get(path, headers=editor).status_code == 404, path
    missing = client.get("/v1/templates/appointment_reminder?version=2", headers=editor)
    assert missing.status_code == 404
    assert "no version 2" in missing.json["detail"]


@pytest.mark.parametrize("version", ["0", "-1", "abc", "1.5", "99999999999"])
def test_a_version_that_is_not_a_positive_number_is_422(client, editor, version) -> None:
    response = client.get(f"/v1/templates/appointment_reminder?version={version}", headers=editor)
    assert list(refusal(response)) == ["/version"]


# ---- access --------------------------------------------------------------------------

ROUTES = [
    ("get", "/v1/templates"),
    ("get", "/v1/templates/appointment_reminder"),
    ("get", "/v1/templates/appointment_reminder/versions"),
    ("put", "/v1/templates/appointment_reminder"),
    ("post", "/v1/templates/appointment_reminder/preview"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_route_needs_a_key_with_the_templates_scope(client, auth, make_key, method, path) -> None:
    call = getattr(client, method)
    assert call(path, json={}).status_code == 401
    assert call(path, json={}, headers={"Authorization": "Bearer ntf_nope"}).status_code == 401
    forbidden = call(path, json={}, headers=auth)  # a key with only the 'send' scope
    assert forbidden.status_code == 403
    assert "templates" in forbidden.json["detail"]


def test_admin_keys_may_use_the_library(client, make_key) -> None:
    admin = {"Authorization": f"Bearer {make_key('admin')}"}
    assert client.get("/v1/templates", headers=admin).status_code == 200


# ---- saving --------------------------------------------------------------------------


def test_a_new_key_is_created_at_version_1(client, editor, spec) -> None:
    response = client.put("/v1/templates/job_fair", json=fair_template(), headers=editor)
    assert response.status_code == 201, response.json
    conforms(spec, "Template", response.json)
    assert response.headers["Location"] == "/v1/templates/job_fair?version=1"
    assert (response.json["version"], response.json["created_by"]) == (1, "seosan-admin")
    assert client.get("/v1/templates/job_fair", headers=editor).json == response.json
    assert versions_of(client, editor, "job_fair") == [1]
    assert "job_fair" in [i["key"] for i in client.get("/v1/templates", headers=editor).json["items"]]


def test_an_edit_adds_a_version_and_the_old_one_stays_readable(client, editor, admin_editor, spec) -> None:
    shipped = client.get("/v1/templates/appointment_reminder", headers=editor).json
    edit = as_edit(shipped)
    edit["sources"]["ko"]["sms.txt"] = shipped["sources"]["ko"]["sms.txt"].replace("다가와", "내일로 다가와")
    response = client.put("/v1/templates/appointment_reminder", json=edit, headers=admin_editor)
    assert response.status_code == 200, response.json
    assert response.json["version"] == 2
    current = client.get("/v1/templates/appointment_reminder", headers=editor).json
    assert current["version"] == 2
    assert "내일로 다가와" in current["sources"]["ko"]["sms.txt"]
    assert client.get("/v1/templates/appointment_reminder?version=1", headers=editor).json == shipped
    history = client.get("/v1/templates/appointment_reminder/versions", headers=editor).json
    conforms(spec, "TemplateVersions", history)
    assert history["current_version"] == 2
    authors = [(i["version"], i["created_by"], i["saved_by"]) for i in history["items"]]
    assert authors == [(1, "shipped", None), (2, "seosan-admin", "template-admin")]


def test_changing_a_shipped_template_needs_the_admin_scope(client, editor) -> None:
    edit = as_edit(client.get("/v1/templates/appointment_reminder", headers=editor).json)
    edit["sources"]["ko"]["sms.txt"] = "[바뀜] " + edit["sources"]["ko"]["sms.txt"]
    refused = client.put("/v1/templates/appointment_reminder", json=edit, headers=editor)
    assert refusal(refused, 403) == {}
    assert "admin" in refused.json["detail"]
    assert versions_of(client, editor, "appointment_reminder") == [1]


def test_a_client_template_records_the_key_that_saved_each_version(client, editor) -> None:
    assert client.put("/v1/templates/job_fair", json=fair_template(), headers=editor).status_code == 201
    second = client.put("/v1/templates/job_fair", json=fair_template(), headers=editor)
    assert (second.status_code, second.json["saved_by"]) == (200, "template-desk")
    history = client.get("/v1/templates/job_fair/versions", headers=editor).json["items"]
    assert [(i["version"], i["saved_by"]) for i in history] == [(1, "template-desk"), (2, "template-desk")]


def test_the_saved_sample_is_exactly_what_was_sent(client, editor) -> None:
    body = fair_template()
    saved = client.put("/v1/templates/job_fair", json=body, headers=editor).json
    assert saved["sample"] == body["sample"]  # checks must not fill in optional values
    assert saved["sources"] == body["sources"]


def test_a_message_accepted_before_an_edit_keeps_its_body_and_version(
    client, auth, editor, admin_editor, ctx
) -> None:
    accepted = client.post("/v1/messages", json=message_body(), headers=auth)
    assert accepted.status_code == 202, accepted.json
    with ctx.engine.connect() as conn:
        body_before = message_repo.get(conn, accepted.json["id"])["body"]
    edit = as_edit(client.get("/v1/templates/appointment_confirmation", headers=editor).json)
    edit["sources"]["ko"]["sms.txt"] = "[새 양식] " + edit["sources"]["ko"]["sms.txt"]
    assert (
        client.put("/v1/templates/appointment_confirmation", json=edit, headers=admin_editor).status_code
        == 200
    )

    shown = client.get(f"/v1/messages/{accepted.json['id']}", headers=auth).json
    assert shown["template"] == {"key": "appointment_confirmation", "version": 1}
    with ctx.engine.connect() as conn:
        assert message_repo.get(conn, accepted.json["id"])["body"] == body_before
    assert "[새 양식]" not in body_before

    later = client.post("/v1/messages", json=message_body(), headers=auth).json
    assert later["template"] == {"key": "appointment_confirmation", "version": 2}
    with ctx.engine.connect() as conn:
        assert message_repo.get(conn, later["id"])["body"].startswith("[새 양식]")


# ---- refusals: nothing is stored ------------------------------------------------------


def test_a_body_that_is_not_json_is_415_or_400(client, editor) -> None:
    path = "/v1/templates/job_fair"
    assert refusal(client.put(path, data="description: x", headers=editor), 415) == {}
    bad_json = client.put(path, data="{", headers={**editor, "Content-Type": "application/json"})
    assert refusal(bad_json, 400) == {}
    assert refusal(client.put(path, json=[fair_template()], headers=editor), 400) == {}
    assert client.get(path, headers=editor).status_code == 404


@pytest.mark.parametrize(
    ("changes", "pointer"),
    [
        ({"colour": "blue"}, "/colour"),
        ({"channels": ["sms", "fax"]}, "/channels/1"),
        ({"channels": []}, "/channels"),
        ({"description": ""}, "/description"),
        ({"purpose": "spam"}, "/purpose"),
    ],
)
def test_malformed_fields_are_422_by_pointer(client, editor, changes, pointer) -> None:
    response = client.put("/v1/templates/job_fair", json=fair_template(**changes), headers=editor)
    assert pointer in refusal(response)
    assert client.get("/v1/templates/job_fair", headers=editor).status_code == 404


def test_a_key_outside_the_pattern_is_refused(client, editor) -> None:
    response = client.put("/v1/templates/Job_Fair", json=fair_template(), headers=editor)
    assert list(refusal(response)) == ["/key"]


def test_a_template_that_does_not_compile_is_refused_with_its_line(client, editor) -> None:
    body = with_part(fair_template(), "sms.txt", "{{ center.name }} 취업박람회\n일시: {{ fair.when }\n")
    errors = refusal(client.put("/v1/templates/job_fair", json=body, headers=editor))
    assert errors["/sources/ko/sms.txt"].startswith("line 2: ")


def test_an_undeclared_value_is_refused_with_its_line(client, editor) -> None:
    body = with_part(fair_template(), "email.txt", "{{ fair.when }}\n{{ fair.bus_route }}\n{{ parking }}")
    response = client.put("/v1/templates/job_fair", json=body, headers=editor)
    assert response.json["title"] == "Template rejected"
    assert list(refusal(response)) == ["/sources/ko/email.txt"]
    assert {e["detail"] for e in response.json["errors"]} == {
        "line 2: 'fair.bus_route' is not declared in values",
        "line 3: 'parking' is not declared in values",
    }


@pytest.mark.parametrize(("char", "column"), [("•", 1), ("🎉", 1), ("\u00a0", 1)])
def test_a_character_sms_cannot_carry_is_refused_with_its_position(client, editor, char, column) -> None:
    body = with_part(fair_template(), "sms.txt", f"{{{{ center.name }}}}\n{char} {{{{ fair.when }}}}")
    detail = refusal(client.put("/v1/templates/job_fair", json=body, headers=editor))["/sources/ko/sms.txt"]
    assert detail.startswith(f"line 2: SMS cannot carry {char!r}")
    assert f"column {column}" in detail


def test_a_template_that_fails_on_its_sample_is_refused_with_its_line(client, editor) -> None:
    body = with_part(fair_template(), "email.txt", "{{ fair.when }}\n{{ fair.place / 2 }}")
    detail = refusal(client.put("/v1/templates/job_fair", json=body, headers=editor))["/sources/ko/email.txt"]
    assert detail.startswith("line 2: the template fails with this data: TypeError")


def test_data_a_template_fails_on_is_422_not_500(client, editor) -> None:
    body = fair_template(values={**fair_template()["values"], "fair.booths": "how many booths"})
    body["sample"]["fair"]["booths"] = 40
    body = with_part(body, "sms.txt", body["sources"]["ko"]["sms.txt"] + "\n부스 {{ fair.booths + 1 }}개")
    assert client.put("/v1/templates/job_fair", json=body, headers=editor).status_code == 201
    data = {**body["sample"], "fair": {**body["sample"]["fair"], "booths": "마흔"}}
    errors = refusal(preview(client, editor, "job_fair", channel="sms", data=data))
    assert errors["/data"].startswith("line 6: the template fails with this data: TypeError")


def test_a_sample_missing_a_required_value_is_refused(client, editor) -> None:
    body = fair_template()
    del body["sample"]["fair"]["place"]
    errors = refusal(client.put("/v1/templates/job_fair", json=body, headers=editor))
    assert "/sample/fair/place" in errors


def test_a_korean_variant_is_required(client, editor) -> None:
    body = fair_template()
    body["sources"] = {"en": body["sources"]["ko"]}
    errors = refusal(client.put("/v1/templates/job_fair", json=body, headers=editor))
    assert "'ko'" in errors["/sources"]


def test_an_sms_too_long_with_the_sample_is_refused(client, editor) -> None:
    body = with_part(fair_template(), "sms.txt", "{{ fair.when }}\n" + "취업박람회 안내입니다. " * 150)
    detail = refusal(client.put("/v1/templates/job_fair", json=body, headers=editor))["/sources/ko/sms.txt"]
    assert "bytes" in detail


def test_a_refused_edit_leaves_the_versions_unchanged(client, editor, admin_editor) -> None:
    edit = as_edit(client.get("/v1/templates/appointment_reminder", headers=editor).json)
    edit["sources"]["ko"]["sms.txt"] += "\n{{ appointment.room_number }}"
    response = client.put("/v1/templates/appointment_reminder", json=edit, headers=admin_editor)
    assert "/sources/ko/sms.txt" in refusal(response)
    assert versions_of(client, editor, "appointment_reminder") == [1]
    assert client.get("/v1/templates/appointment_reminder", headers=editor).json["version"] == 1


# ---- preview -------------------------------------------------------------------------


def preview(client, headers, key: str = "appointment_reminder", query: str = "", **body: Any):
    return client.post(f"/v1/templates/{key}/preview{query}", json=body, headers=headers)


def test_an_sms_preview_shows_the_body_and_its_size(client, editor, spec) -> None:
    data = {"center": CENTER, "recipient": {"name": "김민수"}, **appointment_data(link="")}
    response = preview(client, editor, channel="sms", locale="ko", data=data)
    assert response.status_code == 200, response.json
    conforms(spec, "Preview", response.json)
    shown = response.json
    assert (shown["key"], shown["version"], shown["channel"], shown["locale"]) == (
        "appointment_reminder",
        1,
        "sms",
        "ko",
    )
    assert shown["body"].startswith("안녕하세요, 김민수님. 서산고용복지+센터입니다.")
    assert "12월 3일(수) 오후 2시" in shown["body"]
    assert shown["characters"] == len(shown["body"])
    assert shown["cp949_bytes"] == len(shown["body"].encode("cp949"))
    assert (shown["kr_class"], shown["encoding"]) == ("LMS", "UCS-2")
    assert shown["segments"] >= 2
    assert shown["unencodable"] == []
    assert shown["advertising"] is False


def test_an_email_preview_shows_subject_html_and_text(client, editor, spec) -> None:
    response = preview(client, editor, channel="email", locale="en")
    assert response.status_code == 200, response.json
    conforms(spec, "Preview", response.json)
    shown = response.json
    assert shown["locale"] == "en"
    subject = "[서산고용복지+센터] Reminder: interview and resume consulting, Wed, Dec 3, 2 p.m."
    assert shown["subject"] == subject
    assert shown["html"].startswith("<!DOCTYPE html>")
    assert "Hong Gildong" in shown["html"]
    assert "Hello Hong Gildong," in shown["text"]
    assert "body" not in shown


def test_without_data_the_sample_for_the_locale_is_used(client, editor) -> None:
    korean = preview(client, editor, key="appointment_change", channel="sms").json
    assert "홍길동님" in korean["body"]
    english = preview(client, editor, key="appointment_change", channel="sms", locale="en").json
    assert "Hong Gildong" in english["body"]


def test_a_locale_without_a_variant_falls_back_to_korean(client, editor) -> None:
    shown = preview(client, editor, key="appointment_change", channel="sms", locale="ja").json
    assert shown["locale"] == "ko"
    assert "안녕하세요" in shown["body"]


def test_missing_values_are_named(client, editor) -> None:
    data = {"center": CENTER, "appointment": {"kind": "other", "kind_label": "상담"}}
    errors = refusal(preview(client, editor, channel="sms", data=data))
    assert set(errors) == {
        "/data/appointment/when",
        "/data/appointment/duration",
        "/data/appointment/location",
    }


def test_data_an_sms_cannot_carry_is_refused_with_its_position(client, editor) -> None:
    data = {"center": CENTER, **appointment_data(location="센터 🏢 2층")}
    errors = refusal(preview(client, editor, channel="sms", data=data))
    assert "'🏢'" in errors["/data"]
    assert "position" in errors["/data"]


def test_an_advertising_preview_carries_the_legal_markings(client, editor, settings) -> None:
    sms = preview(client, editor, "program_announcement_jobseekers", channel="sms", advertising=True).json
    assert sms["body"].startswith("(광고)서산고용복지+센터\n")
    assert sms["body"].endswith(PREVIEW_OPT_OUT_LINE)
    assert sms["advertising"] is True
    email = preview(client, editor, "program_announcement_jobseekers", channel="email", advertising=True).json
    assert email["subject"].startswith("(광고) ")
    unsubscribe = f"{settings.public_url}/u/preview"
    assert f'href="{unsubscribe}"' in email["html"]
    assert unsubscribe in email["text"]


def test_an_advertising_preview_needs_the_center_name(client, editor) -> None:
    data = {"center": {"phone": "041-661-5676"}}
    response = preview(client, editor, "program_announcement_employers", data=data, advertising=True)
    assert list(refusal(response)) == ["/data/center/name"]


def test_a_preview_of_an_older_version(client, editor, admin_editor) -> None:
    key = "appointment_change"  # its SMS is sms.txt (the reminder's preview shows sms_short.txt)
    edit = as_edit(client.get(f"/v1/templates/{key}", headers=editor).json)
    edit["sources"]["ko"]["sms.txt"] = "[v2] " + edit["sources"]["ko"]["sms.txt"]
    client.put(f"/v1/templates/{key}", json=edit, headers=admin_editor)
    assert preview(client, editor, key=key, channel="sms").json["body"].startswith("[v2] ")
    old = preview(client, editor, key=key, query="?version=1", channel="sms").json
    assert old["version"] == 1
    assert not old["body"].startswith("[v2]")


def test_preview_refusals(client, editor) -> None:
    assert refusal(preview(client, editor, "job_fair", channel="sms"), 404) == {}
    assert refusal(preview(client, editor, query="?version=7", channel="sms"), 404) == {}
    assert "/channel" in refusal(preview(client, editor, channel="fax"))
    assert "/locale" in refusal(preview(client, editor, locale="Korean"))
    assert "/data" in refusal(preview(client, editor, data=["not", "an", "object"]))
    not_json = client.post("/v1/templates/appointment_reminder/preview", data="x", headers=editor)
    assert refusal(not_json, 415) == {}


def test_a_channel_the_template_does_not_have_is_422(client, editor) -> None:
    sms_only = fair_template(channels=["sms"])
    sms_only["sources"]["ko"] = {"sms.txt": sms_only["sources"]["ko"]["sms.txt"]}
    assert client.put("/v1/templates/job_fair", json=sms_only, headers=editor).status_code == 201
    assert "/channel" in refusal(preview(client, editor, "job_fair", channel="email"))
