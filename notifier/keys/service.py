"""API keys as the console, the API and the CLI manage them: list, create (shown once), revoke.

Each change is written to the audit log in its transaction. A revoked key stops working in
every API process within ``NOTIFIER_LOOKUP_TTL_SECONDS``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import Field

from notifier.context import Context
from notifier.errors import FieldError, NotFound, ValidationFailed
from notifier.keys import repository as keys
from notifier.responses import ResponseModel, Timestamp
from notifier.staff import audit
from notifier.staff.accounts import StaffAccount

# ``last_used_at`` is written at most this often per key and process (not on every request).
LAST_USED_EVERY = timedelta(minutes=1)
Actor = StaffAccount | str | None


class ApiKey(ResponseModel):
    """An API key as listed: never the key itself, nor its hash."""

    id: str = Field(json_schema_extra={"format": "uuid"})
    name: str
    owner: str = Field(description="the client whose messages the key sends and reads")
    prefix: str = Field(description="the short id inside the key (ntf_<prefix>_...), as the CLI shows it")
    scopes: list[str]
    created_at: Timestamp
    last_used_at: Timestamp | None = Field(description="updated at most once a minute")
    revoked_at: Timestamp | None


class ApiKeyList(ResponseModel):
    keys: list[ApiKey]


class NewApiKey(ApiKey):
    """A key just created: ``key`` is shown now and never again (only its hash is kept)."""

    key: str


def _listed(row: Any) -> dict[str, Any]:
    """The columns of a key row that may be shown (never its hash)."""
    return {name: row[name] for name in ApiKey.model_fields}


def key_view(row: Any) -> dict[str, Any]:
    return ApiKey.model_validate(_listed(row)).dump()


def list_keys(ctx: Context) -> dict[str, Any]:
    with ctx.engine.connect() as conn:
        rows = keys.listing(conn)
    return ApiKeyList(keys=[ApiKey.model_validate(_listed(r)) for r in rows]).dump()


def create_key(
    ctx: Context, name: str, scopes: list[str], owner: str | None, actor: Actor, address: str | None
) -> dict[str, Any]:
    """Create a key; the answer carries the key itself, once."""
    unknown = sorted(set(scopes) - keys.SCOPES)
    if unknown or not scopes:
        detail = f"scopes must be some of {', '.join(sorted(keys.SCOPES))}"
        raise ValidationFailed([FieldError("/scopes", detail)])
    now = ctx.clock()
    with ctx.engine.begin() as conn:
        secret = keys.create(conn, name, scopes, now, owner)
        row = keys.find(conn, secret)
        assert row is not None
        audit.record(
            conn, actor, "api_key_created", "api_key", row["id"], now,
            address=address, detail=f"name={name} scopes={','.join(sorted(set(scopes)))}",
        )  # fmt: skip
    return NewApiKey.model_validate({**_listed(row), "key": secret}).dump()


def revoke_key(ctx: Context, key_id: str, actor: Actor, address: str | None) -> dict[str, Any]:
    """Revoke a live key; an unknown or already revoked key is ``NotFound``."""
    now = ctx.clock()
    with ctx.engine.begin() as conn:
        revoked = keys.revoke_by_id(conn, key_id, now)
        if revoked is None:
            raise NotFound(f"no live API key {key_id}")
        audit.record(
            conn,
            actor,
            "api_key_revoked",
            "api_key",
            key_id,
            now,
            address=address,
            detail=f"name={revoked['name']}",
        )
        row = keys.find_by_id(conn, key_id)
    # This process stops accepting the key at once; others within NOTIFIER_LOOKUP_TTL_SECONDS.
    ctx.lookups.forget(lambda key: isinstance(key, tuple) and key[:1] == ("api_key",))
    return key_view(row)


def note_use(ctx: Context, key_id: str) -> None:
    """Record that a key was used: one UPDATE per key and process per ``LAST_USED_EVERY`` at most."""
    now = ctx.clock()
    seen = ctx.memo.setdefault("api_key_last_used", {})
    last = seen.get(key_id)
    if last is not None and now - last < LAST_USED_EVERY:
        return
    seen[key_id] = now
    with ctx.engine.begin() as conn:
        keys.touch(conn, key_id, now, LAST_USED_EVERY)
