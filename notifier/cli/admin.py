"""The schema, API keys and the centre registry: ``notifier db|keys|centers``."""

from __future__ import annotations

import click

from notifier.cli.common import command_context, prepare


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Bring the schema up to date and load the shipped templates as version 1."""
    with command_context() as ctx:
        prepare(ctx)
    click.echo("database is up to date")


@click.group()
def keys() -> None:
    """API keys."""


@keys.command("create")
@click.argument("name")
@click.option(
    "--scope", "scopes", multiple=True, required=True, help="send, appointments, campaigns, templates, admin"
)
@click.option("--owner", default=None, help="the client the key belongs to (default: NAME)")
def keys_create(name: str, scopes: tuple[str, ...], owner: str | None) -> None:
    """Create an API key. The key is printed once, as the last line; only its hash is kept."""
    from notifier.keys import repository as key_repo

    try:
        with command_context() as ctx, ctx.engine.begin() as conn:
            key = key_repo.create(conn, name, scopes, ctx.clock(), owner)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--scope") from exc
    listed = ", ".join(sorted(set(scopes)))
    click.echo(f"created key {name!r} with scopes {listed}; store it now, it is not shown again:")
    click.echo(key)


@keys.command("list")
@click.option("--all", "show_all", is_flag=True, help="revoked keys too")
def keys_list(show_all: bool) -> None:
    """List API keys: id, name, owner, scopes, created, last used (never the keys themselves)."""
    from notifier.keys import repository as key_repo

    with command_context() as ctx, ctx.engine.connect() as conn:
        rows = key_repo.listing(conn, include_revoked=show_all)
    if not rows:
        click.echo("no keys")
    for row in rows:
        last = row["last_used_at"].isoformat(timespec="seconds") if row["last_used_at"] else "never"
        state = f"  revoked {row['revoked_at'].isoformat(timespec='seconds')}" if row["revoked_at"] else ""
        click.echo(
            f"{row['id']}  {row['name']}  owner={row['owner']}  scopes={','.join(row['scopes'])}  "
            f"created={row['created_at'].isoformat(timespec='seconds')}  last_used={last}{state}"
        )


@keys.command("revoke")
@click.argument("key_id")
def keys_revoke(key_id: str) -> None:
    """Revoke a key by the id ``notifier keys list`` shows; API processes stop taking it within
    NOTIFIER_LOOKUP_TTL_SECONDS."""
    from notifier.errors import NotFound
    from notifier.keys import service as key_service

    try:
        with command_context() as ctx:
            revoked = key_service.revoke_key(ctx, key_id, None, None)
    except NotFound as exc:
        raise click.ClickException(f"no live key with id {key_id}") from exc
    click.echo(f"revoked key {revoked['name']!r} ({key_id})")


@click.group()
def centers() -> None:
    """The centre registry."""


@centers.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def centers_load(path: str) -> None:
    """Add or update the centres listed in a YAML file (see notifier/data/centers.yaml)."""
    from pathlib import Path

    from notifier.centers import service as registry
    from notifier.errors import ValidationFailed

    try:
        records = registry.parse_file(Path(path))
    except ValidationFailed as exc:
        lines = "\n".join(f"  {e.pointer}: {e.detail}" for e in exc.errors)
        raise click.ClickException(f"{exc.detail}\n{lines}") from exc
    with command_context() as ctx:
        click.echo(f"loaded {registry.load(ctx, records)} centre(s)")
