"""SOLAPI's delivery reports: the fake POSTs them to the service's secret webhook URL.

Read from the outside: the HTTP status the fake got back, and the message and its history
as the API shows them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from notifier.messages.sending import deliver
from tests.factories import message_body
from tests.fakes.solapi_server import FakeSolapi

SECRET = "solapi-reports-0123456789abcdefghijklmn"


@pytest.fixture
def solapi_fake() -> Iterator[FakeSolapi]:
    with FakeSolapi() as fake:
        yield fake


@pytest.fixture
def env(env: dict[str, str], solapi_fake: FakeSolapi) -> dict[str, str]:
    return {
        **env,
        "SOLAPI_API_KEY": solapi_fake.api_key,
        "SOLAPI_API_SECRET": solapi_fake.api_secret,
        "NOTIFIER_SOLAPI_BASE_URL": solapi_fake.base_url,
        "NOTIFIER_SOLAPI_WEBHOOK_SECRET": SECRET,
    }


def sent_through_solapi(client, auth, ctx, fake: FakeSolapi, **changes) -> tuple[str, str]:
    """Send one SMS for 서산 through the fake; return (our id, SOLAPI's id)."""
    body = message_body(center={"code": "seosan"}, **changes)
    message_id = client.post("/v1/messages", json=body, headers=auth).json["id"]
    deliver(ctx, message_id)
    [registered] = fake.wait_for_messages(1)
    return message_id, registered.message_id


def shown(client, auth, message_id: str) -> dict:
    return client.get(f"/v1/messages/{message_id}", headers=auth).json


def test_a_delivery_report_marks_the_message_delivered_by_its_class(
    client, auth, ctx, solapi_fake: FakeSolapi, live_api: str
) -> None:
    message_id, solapi_id = sent_through_solapi(client, auth, ctx, solapi_fake)
    solapi_fake.deliver()

    assert solapi_fake.send_report(f"{live_api}/webhooks/solapi/{SECRET}", solapi_id) == 204

    message = shown(client, auth, message_id)
    assert message["status"] == "delivered"
    assert message["kr_class"] == "LMS"  # the confirmation is longer than 90 bytes
    assert message["delivered_via"] == "lms"
    assert message["history"][-1]["detail"] == "solapi: LMS 4000 수신 완료"


def test_a_failure_report_fails_the_message_with_solapis_reason(
    client, auth, ctx, solapi_fake: FakeSolapi, live_api: str
) -> None:
    solapi_fake.fail_delivery("01012345678", "3032")
    message_id, solapi_id = sent_through_solapi(client, auth, ctx, solapi_fake)
    solapi_fake.deliver()

    assert solapi_fake.send_report(f"{live_api}/webhooks/solapi/{SECRET}", solapi_id) == 204

    message = shown(client, auth, message_id)
    assert message["status"] == "failed"
    assert message["error"] == {"code": "3032", "reason": "미가입자"}
    assert message["delivered_via"] is None


def test_a_report_with_the_wrong_secret_is_refused_and_changes_nothing(
    client, auth, ctx, solapi_fake: FakeSolapi, live_api: str
) -> None:
    message_id, solapi_id = sent_through_solapi(client, auth, ctx, solapi_fake)
    solapi_fake.deliver()

    assert solapi_fake.send_report(f"{live_api}/webhooks/solapi/{SECRET[:-1]}x", solapi_id) == 403
    assert solapi_fake.send_report(f"{live_api}/webhooks/solapi/", solapi_id) == 404

    assert shown(client, auth, message_id)["status"] == "sent"


def test_a_late_failure_never_undoes_delivered(client, auth, ctx, solapi_fake: FakeSolapi) -> None:
    message_id, solapi_id = sent_through_solapi(client, auth, ctx, solapi_fake)
    url = f"/webhooks/solapi/{SECRET}"

    def report(code: str) -> int:
        data = {
            "messageId": solapi_id,
            "type": "SMS",
            "statusCode": code,
            "customFields": {"notifierId": message_id},
        }
        return client.post(url, json=[{"eventDataId": "e1", "data": data}]).status_code

    assert report("4000") == 204
    assert report("3010") == 204
    assert report("2000") == 204

    message = shown(client, auth, message_id)
    assert message["status"] == "delivered"
    assert [h["status"] for h in message["history"]].count("delivered") == 1


def test_a_report_naming_another_solapi_message_is_ignored(
    client, auth, ctx, solapi_fake: FakeSolapi
) -> None:
    message_id, _ = sent_through_solapi(client, auth, ctx, solapi_fake)
    data = {
        "messageId": "M4VFORGED",
        "type": "SMS",
        "statusCode": "3010",
        "customFields": {"notifierId": message_id},
    }

    assert client.post(f"/webhooks/solapi/{SECRET}", json=[{"data": data}]).status_code == 204

    assert shown(client, auth, message_id)["status"] == "sent"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"data": {"messageId": "M1", "statusCode": "4000"}}, 400),  # an object, not SOLAPI's array
        ([{"data": {"statusCode": "4000"}}], 422),  # no messageId
        ([{"nothing": 1}], 422),
    ],
)
def test_a_malformed_report_is_a_problem_and_changes_nothing(
    client, auth, ctx, solapi_fake: FakeSolapi, body, status: int
) -> None:
    message_id, _ = sent_through_solapi(client, auth, ctx, solapi_fake)

    response = client.post(f"/webhooks/solapi/{SECRET}", json=body)

    assert response.status_code == status
    assert response.content_type == "application/problem+json"
    assert shown(client, auth, message_id)["status"] == "sent"
