"""What every command shares: the settings, a context, and how refusals are shown."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click

from notifier import bootstrap
from notifier.config import Settings
from notifier.errors import ConfigError


def settings_or_exit() -> Settings:
    try:
        return Settings.from_env()
    except ConfigError as exc:
        raise click.ClickException(f"invalid configuration: {exc}") from exc


@contextmanager
def command_context() -> Iterator[bootstrap.Context]:
    """Build the context for one command and close its connections afterwards."""
    ctx = bootstrap.build(settings_or_exit())
    try:
        yield ctx
    finally:
        ctx.engine.dispose()


def prepare(ctx: bootstrap.Context) -> None:
    """Upgrade the schema and load the shipped templates (and other shipped data)."""
    from notifier.bootstrap import load_shipped_data
    from notifier.storage.db import upgrade

    upgrade(ctx.engine)
    load_shipped_data(ctx)
