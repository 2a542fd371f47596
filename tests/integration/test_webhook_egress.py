"""A webhook URL never makes the service connect to an internal address: not through a URL that
two parsers read differently, not through DNS that changes after registration, not through a
redirect. Each test has a listener on loopback and shows it received nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from notifier.webhooks import egress
from notifier.webhooks import service as webhooks
from notifier.webhooks.tables import webhook_deliveries
from notifier.webhooks.tables import webhooks as webhook_table
from tests.fakes.webhook_receiver import WebhookReceiver

ROOT = Path(__file__).resolve().parents[2]
EVENT = {"event": "appointment.confirmed"}


@pytest.fixture
def listener():
    with WebhookReceiver() as server:
        yield server


@pytest.fixture
def auth(make_key):
    return {"Authorization": f"Bearer {make_key('appointments')}"}


@pytest.fixture
def public_only(ctx):
    ctx.settings = ctx.settings.with_overrides(webhook_allow_private=False)
    return ctx


def port_of(receiver: WebhookReceiver) -> int:
    return receiver.server.server_address[1]


def bypasses(port: int) -> list[str]:
    return [
        f"http://127.0.0.1:{port}\\@1.1.1.1/x",
        f"http://[::1]:{port}\\@1.1.1.1/x",
        f"http://localhost:{port}\\@1.1.1.1/x",
        f"http://127.0.0.1:{port}@1.1.1.1/x",
        f"http://user:pass@1.1.1.1:{port}/x",
        f"http://1.1.1.1/x\\@127.0.0.1:{port}",
        "http://1.1.1.1/ x",
        "http://1.1.1.1/\tx",
        "file:///etc/passwd",
        "gopher://1.1.1.1/x",
        "ftp://1.1.1.1/x",
    ]


@pytest.mark.parametrize("index", range(11))
def test_urls_two_parsers_read_differently_are_refused_at_registration(
    client, auth, public_only, listener, index
) -> None:
    url = bypasses(port_of(listener))[index]
    answer = client.put("/v1/webhooks", json={"url": url, "events": ["appointment.confirmed"]}, headers=auth)
    assert answer.status_code == 422, answer.json
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert [e["pointer"] for e in answer.json["errors"]] == ["/url"]
    assert client.get("/v1/webhooks", headers=auth).status_code == 404
    assert listener.received == []


@pytest.mark.parametrize("index", range(4))
def test_url_rules_hold_even_where_private_addresses_are_allowed(client, auth, listener, index) -> None:
    url = bypasses(port_of(listener))[index]  # the backslash and user-info forms
    answer = client.put("/v1/webhooks", json={"url": url, "events": ["appointment.confirmed"]}, headers=auth)
    assert answer.status_code == 422, answer.json
    assert listener.received == []


def stored_webhook(ctx, owner: str, url: str) -> str:
    """A webhook row as if it had passed registration (its DNS changed since), and one event."""
    now = ctx.clock()
    with ctx.engine.begin() as conn:
        conn.execute(
            webhook_table.insert().values(
                owner=owner,
                url=url,
                events=["appointment.confirmed"],
                secret="whsec_test",
                created_at=now,
                updated_at=now,
            )
        )
        return webhooks.emit(conn, owner, "appointment.confirmed", EVENT, now) or ""


def delivery(ctx, delivery_id: str):
    with ctx.engine.connect() as conn:
        return conn.execute(sa.select(webhook_deliveries).where(webhook_deliveries.c.id == delivery_id)).one()


def test_a_stored_url_that_now_reaches_loopback_sends_nothing(public_only, listener) -> None:
    ctx = public_only
    delivery_id = stored_webhook(ctx, "rebound", f"http://localhost:{port_of(listener)}/hooks")
    assert webhooks.deliver_due(ctx) == 1
    row = delivery(ctx, delivery_id)
    assert (row.status, row.last_error, row.last_status_code) == ("failed", "address not allowed", None)
    assert listener.received == []


def test_a_stored_url_with_a_parser_trick_sends_nothing_even_where_private_is_allowed(ctx, listener) -> None:
    delivery_id = stored_webhook(ctx, "tricky", f"http://127.0.0.1:{port_of(listener)}\\@1.1.1.1/x")
    assert webhooks.deliver_due(ctx) == 1
    assert (delivery(ctx, delivery_id).status, delivery(ctx, delivery_id).last_error) == (
        "failed",
        "address not allowed",
    )
    assert listener.received == []


def test_a_redirect_is_never_followed(ctx, listener) -> None:
    with WebhookReceiver() as target:
        listener.location = target.url  # the receiver answers 302 to another loopback address
        listener.answer(302)
        delivery_id = stored_webhook(ctx, "redirected", listener.url)
        assert webhooks.deliver_due(ctx) == 1
        assert (delivery(ctx, delivery_id).status, delivery(ctx, delivery_id).last_status_code) == (
            "failed",
            302,
        )
        assert len(listener.received) == 1
        assert target.received == []


def test_the_peer_address_is_checked_on_the_socket() -> None:
    with WebhookReceiver() as server:
        receiver = egress.parse_receiver_url(server.url)
        with pytest.raises(egress.AddressNotAllowed):
            egress.post(receiver, b"{}", {}, timeout=5, allow_private=False)
        assert server.received == []
        assert egress.post(receiver, b"{}", {}, timeout=5, allow_private=True).status_code == 200
        assert len(server.received) == 1


# In a network namespace of its own, /etc/hosts can be changed for this test alone
# (``ip netns exec`` mounts /etc/netns/NAME/hosts over it): the receiver's name resolves to a
# public address when the webhook is registered and to loopback when the event is sent.
REBINDING = textwrap.dedent(
    """
    import json, subprocess, sys
    from notifier import bootstrap
    from notifier.config import Settings
    from notifier.storage.db import upgrade
    from notifier.webhooks import service as webhooks
    from notifier.webhooks.tables import webhook_deliveries
    import sqlalchemy as sa
    from tests.fakes.webhook_receiver import WebhookReceiver

    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    settings = Settings.from_env({"NOTIFIER_DATABASE_URL": "sqlite:///" + sys.argv[1],
                                  "NOTIFIER_SECRET_KEY": "x" * 32})
    ctx = bootstrap.build(settings)
    upgrade(ctx.engine)
    with WebhookReceiver() as listener:
        url = f"http://receiver.test:{listener.server.server_address[1]}/hooks"
        status, _ = webhooks.put_webhook(ctx, "rebinder", url, ["appointment.confirmed"])
        with open("/etc/hosts", "w") as hosts:  # the namespace's own copy
            hosts.write("127.0.0.1 receiver.test\\n")
        with ctx.engine.begin() as conn:
            delivery_id = webhooks.emit(conn, "rebinder", "appointment.confirmed", {}, ctx.clock())
        webhooks.deliver_due(ctx)
        with ctx.engine.connect() as conn:
            outcome, error = conn.execute(
                sa.select(webhook_deliveries.c.status, webhook_deliveries.c.last_error)
            ).one()
        print(json.dumps({"registered": status, "outcome": outcome, "error": error,
                          "received": len(listener.received)}))
    """
)


def test_a_name_that_resolves_to_loopback_after_registration_receives_nothing(tmp_path) -> None:
    namespace = f"nt{uuid.uuid4().hex[:10]}"
    hosts_dir = Path("/etc/netns") / namespace
    subprocess.run(["ip", "netns", "add", namespace], check=True)
    try:
        hosts_dir.mkdir(parents=True)
        (hosts_dir / "hosts").write_text("93.184.216.34 receiver.test\n")  # public when registered
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        env.pop("NOTIFIER_WEBHOOK_ALLOW_PRIVATE", None)
        run = subprocess.run(
            ["ip", "netns", "exec", namespace, sys.executable, "-c", REBINDING, str(tmp_path / "db.sqlite")],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            cwd=ROOT,
        )
        assert run.returncode == 0, run.stderr
        result = json.loads(run.stdout.strip().splitlines()[-1])
        assert result == {
            "registered": 201,
            "outcome": "failed",
            "error": "address not allowed",
            "received": 0,
        }
    finally:
        subprocess.run(["ip", "netns", "delete", namespace], check=False)
        for file in hosts_dir.glob("*"):
            file.unlink()
        if hosts_dir.exists():
            hosts_dir.rmdir()
