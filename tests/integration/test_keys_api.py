"""/v1/keys (scope admin) and ``notifier keys list|revoke``: list without secrets, create shown
once, revoke at once, ``last_used_at`` written at most once a minute per key."""

from __future__ import annotations

from datetime import timedelta

from click.testing import CliRunner
from sqlalchemy import select

from notifier.cli import main
from notifier.keys.tables import api_keys
from notifier.staff.tables import audit_log


def rows(ctx, table):
    """The table's rows in the order they were made."""
    order = table.c.created_at if "created_at" in table.c else table.c.id
    with ctx.engine.connect() as conn:
        return list(conn.execute(select(table).order_by(order)).mappings())


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_an_admin_key_lists_creates_and_revokes_keys(ctx, client, make_key) -> None:
    admin = bearer(make_key("admin", name="ops"))
    created = client.post(
        "/v1/keys", json={"name": "booking", "scopes": ["send", "appointments"]}, headers=admin
    )
    assert created.status_code == 201
    body = created.json
    assert body["key"].startswith("ntf_") and body["scopes"] == ["appointments", "send"]
    assert body["owner"] == "booking" and body["last_used_at"] is None and body["revoked_at"] is None
    assert client.get("/v1/messages", headers=bearer(body["key"])).status_code == 200

    listed = client.get("/v1/keys", headers=admin).json["keys"]
    assert [k["name"] for k in listed] == ["ops", "booking"]
    assert all("key" not in k and "key_hash" not in k for k in listed)
    assert listed[1]["last_used_at"] is not None

    assert client.delete(f"/v1/keys/{body['id']}", headers=admin).status_code == 204
    assert client.get("/v1/messages", headers=bearer(body["key"])).status_code == 401
    again = client.delete(f"/v1/keys/{body['id']}", headers=admin)
    assert again.status_code == 404 and again.mimetype == "application/problem+json"
    entries = [(e["actor"], e["action"]) for e in rows(ctx, audit_log)]
    assert entries == [("api key ops", "api_key_created"), ("api key ops", "api_key_revoked")]


def test_keys_need_the_admin_scope(client, make_key) -> None:
    sender = bearer(make_key("send", "campaigns", "templates", "appointments"))
    assert client.get("/v1/keys", headers=sender).status_code == 403
    assert client.post("/v1/keys", json={"name": "x", "scopes": ["admin"]}, headers=sender).status_code == 403
    assert client.get("/v1/keys").status_code == 401


def test_a_bad_key_request_is_a_422_and_creates_nothing(ctx, client, make_key) -> None:
    admin = bearer(make_key("admin"))
    for body in (
        {"name": "x", "scopes": []},
        {"name": "x", "scopes": ["root"]},
        {"name": "", "scopes": ["send"]},
        {"name": "x", "scopes": ["send"], "extra": 1},
    ):
        refused = client.post("/v1/keys", json=body, headers=admin)
        assert refused.status_code == 422 and refused.mimetype == "application/problem+json", body
    assert len(rows(ctx, api_keys)) == 1


def test_last_used_is_written_at_most_once_a_minute(ctx, client, make_key) -> None:
    from tests.integration.test_console_auth import NOW, Clock

    ctx.clock = Clock(NOW)
    key = bearer(make_key("send"))
    client.get("/v1/messages", headers=key)
    assert rows(ctx, api_keys)[0]["last_used_at"] == NOW
    ctx.clock.now = NOW + timedelta(seconds=30)
    client.get("/v1/messages", headers=key)
    assert rows(ctx, api_keys)[0]["last_used_at"] == NOW
    ctx.clock.now = NOW + timedelta(seconds=61)
    client.get("/v1/messages", headers=key)
    assert rows(ctx, api_keys)[0]["last_used_at"] == NOW + timedelta(seconds=61)


def test_the_cli_lists_and_revokes_keys(ctx, env, make_key) -> None:
    make_key("send", name="booking")
    key_id = rows(ctx, api_keys)[0]["id"]
    listed = CliRunner().invoke(main, ["keys", "list"], env=env)
    assert listed.exit_code == 0 and key_id in listed.output and "booking" in listed.output
    assert "last_used=never" in listed.output and "ntf_" not in listed.output
    revoked = CliRunner().invoke(main, ["keys", "revoke", key_id], env=env)
    assert revoked.exit_code == 0 and "revoked key 'booking'" in revoked.output
    assert rows(ctx, api_keys)[0]["revoked_at"] is not None
    assert key_id not in CliRunner().invoke(main, ["keys", "list"], env=env).output
    assert "revoked" in CliRunner().invoke(main, ["keys", "list", "--all"], env=env).output
    again = CliRunner().invoke(main, ["keys", "revoke", key_id], env=env)
    assert again.exit_code != 0 and "no live key" in again.output
    assert rows(ctx, audit_log)[-1]["actor"] == "cli"


def test_the_keys_api_is_in_the_openapi_document(client) -> None:
    paths = client.get("/openapi.json").json["paths"]
    assert set(paths["/v1/keys"]) == {"get", "post"} and "delete" in paths["/v1/keys/{key_id}"]
    assert paths["/v1/keys"]["post"]["security"] == [{"bearerAuth": ["admin"]}]
