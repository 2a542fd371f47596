"""Registered sender numbers per centre and provider: SOLAPI sends only from those.

Read from the outside: the 422 a client gets, what the SOLAPI fake received (nothing, when the
number is not registered), and the message's final row.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from notifier.centers import service as centers
from notifier.cli import main
from notifier.errors import ValidationFailed
from notifier.messages import repository as repo
from notifier.messages.sending import deliver
from tests.factories import message_body
from tests.fakes.solapi_server import FakeSolapi


@pytest.fixture
def solapi_fake() -> Iterator[FakeSolapi]:
    with FakeSolapi() as fake:
        yield fake


@pytest.fixture
def env(env: dict[str, str], solapi_fake: FakeSolapi) -> dict[str, str]:
    """A deployment with SOLAPI configured (it is chosen before Twilio)."""
    return {
        **env,
        "SOLAPI_API_KEY": solapi_fake.api_key,
        "SOLAPI_API_SECRET": solapi_fake.api_secret,
        "NOTIFIER_SOLAPI_BASE_URL": solapi_fake.base_url,
    }


def load_centre(ctx, tmp_path: Path, yaml_text: str) -> None:
    path = tmp_path / "centre.yaml"
    path.write_text(yaml_text, encoding="utf-8")
    centers.load(ctx, centers.parse_file(path))


SEOSAN_WITHOUT_SOLAPI = (
    "- code: seosan\n  name: 서산고용복지+센터\n  phone: 041-661-5676\n  sms_sender: 041-661-5676\n"
    "  sender_numbers: {twilio: ['+82416615676']}\n"
)


def test_a_message_for_a_centre_goes_through_solapi_from_its_registered_number(
    client, auth, ctx, solapi_fake: FakeSolapi
) -> None:
    assert ctx.sms.name == "solapi"
    message_id = client.post("/v1/messages", json=message_body(center={"code": "seosan"}), headers=auth).json[
        "id"
    ]

    deliver(ctx, message_id)

    [sent] = solapi_fake.wait_for_messages(1)
    assert (sent.from_, sent.to) == ("0416615676", "01012345678")
    shown = client.get(f"/v1/messages/{message_id}", headers=auth).json
    assert shown["status"] == "sent"
    assert shown["provider_message_id"] == sent.message_id


def test_the_shipped_centres_list_their_solapi_numbers(client, auth) -> None:
    listed = {c["code"]: c for c in client.get("/v1/centers", headers=auth).json["items"]}
    assert listed["seosan"]["sender_numbers"] == {"solapi": ["+82416615676"]}
    assert listed["gumi"]["sender_numbers"] == {"solapi": ["+82544403396"]}
    assert all(c["kakao_pf_id"] is None for c in listed.values())


def test_a_number_the_centre_did_not_register_with_solapi_is_a_422_and_nothing_is_stored(
    client, auth, ctx, tmp_path: Path, solapi_fake: FakeSolapi
) -> None:
    load_centre(ctx, tmp_path, SEOSAN_WITHOUT_SOLAPI)

    response = client.post("/v1/messages", json=message_body(center={"code": "seosan"}), headers=auth)

    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    [error] = response.json["errors"]
    assert error["pointer"] == "/center"
    assert "041-661-5676" in error["detail"] and "사전등록" in error["detail"]
    assert client.get("/v1/messages", headers=auth).json["items"] == []
    assert solapi_fake.requests == []


def test_an_ad_hoc_sender_no_centre_registered_with_solapi_is_a_422(client, auth, solapi_fake) -> None:
    center = {"name": "서산고용복지+센터", "phone": "041-661-5676", "sms_sender": "044-202-7369"}
    # 044-202-7369 is moel-tf's registered number: any centre's registration lets it through
    assert client.post("/v1/messages", json=message_body(center=center), headers=auth).status_code == 202
    center["sms_sender"] = "02-123-4567"
    response = client.post("/v1/messages", json=message_body(center=center), headers=auth)
    assert response.status_code == 422  # not a sender of any centre at all
    assert solapi_fake.requests == []


def test_a_registration_withdrawn_after_intake_fails_the_message_before_any_solapi_call(
    client, auth, ctx, tmp_path: Path, solapi_fake: FakeSolapi
) -> None:
    message_id = client.post("/v1/messages", json=message_body(center={"code": "seosan"}), headers=auth).json[
        "id"
    ]
    load_centre(ctx, tmp_path, SEOSAN_WITHOUT_SOLAPI)

    deliver(ctx, message_id)

    assert solapi_fake.requests == []
    shown = client.get(f"/v1/messages/{message_id}", headers=auth).json
    assert shown["status"] == "failed"
    assert shown["error"]["code"] == "unregistered_sender"
    assert "사전등록" in shown["error"]["reason"]
    with ctx.engine.connect() as conn:
        assert repo.get(conn, message_id)["attempts"] == 1  # one attempt, not retried


def test_a_centres_file_checks_its_sender_numbers(tmp_path: Path) -> None:
    bad = tmp_path / "centres.yaml"
    bad.write_text(
        "- {code: x1, name: 가, phone: 041-661-5676, sms_sender: 041-661-5676,"
        " sender_numbers: {solapi: ['12']}}\n"
        "- {code: x2, name: 나, phone: 041-661-5676, sms_sender: 041-661-5676,"
        " sender_numbers: {carrier-pigeon: ['041-661-5676']}, kakao_pf_id: 'not a pf id!'}\n",
        encoding="utf-8",
    )
    with pytest.raises(ValidationFailed) as error:
        centers.parse_file(bad)
    pointers = {e.pointer for e in error.value.errors}
    assert "/0/sender_numbers" in pointers
    assert any(p.startswith("/1/sender_numbers") for p in pointers)
    assert "/1/kakao_pf_id" in pointers


def test_centers_load_records_numbers_and_the_kakao_channel(tmp_path: Path, env, ctx) -> None:
    good = tmp_path / "centres.yaml"
    good.write_text(
        "- code: test-center\n  name: 시험고용센터\n  phone: 02-123-4567\n  sms_sender: 02-123-4567\n"
        "  sender_numbers: {solapi: [02-123-4567, '+8221234568']}\n  kakao_pf_id: KA01PF_TEST\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["centers", "load", str(good)], env=env)
    assert result.exit_code == 0, result.output
    center = centers.get(ctx, "test-center")
    assert center.sender_numbers == {"solapi": ("+8221234567", "+8221234568")}
    assert center.kakao_pf_id == "KA01PF_TEST"
    assert center.may_send_from("solapi", "+8221234568")
    assert not center.may_send_from("solapi", "+82416615676")
