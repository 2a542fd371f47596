"""The template library from a terminal: ``notifier templates list|preview``."""

from __future__ import annotations

import json

import click

from notifier.cli.common import command_context


@click.group()
def templates() -> None:
    """Message templates: list them, preview what a recipient would get."""


@templates.command("list")
def templates_list() -> None:
    """List every template at its current version."""
    from notifier.templates import library as template_library

    with command_context() as ctx:
        items = template_library.list_templates(ctx)["items"]
    if not items:
        click.echo("no templates; `notifier db upgrade` loads the shipped ones")
    width = max((len(item["key"]) for item in items), default=0)
    for item in items:
        click.echo(
            f"{item['key']:<{width}}  v{item['version']:<3} {item['purpose']:<20} "
            f"{','.join(item['channels']):<9} {','.join(item['locales']):<6} {item['description']}"
        )


@templates.command("preview")
@click.argument("key")
@click.option("--data", "data_json", default=None, help="JSON object of values (default: the sample data)")
@click.option("--channel", type=click.Choice(["sms", "email"]), default="sms", show_default=True)
@click.option("--locale", default="ko", show_default=True)
@click.option("--advertising", is_flag=True, help="apply the (광고) markings with a placeholder opt-out line")
@click.option("--version", type=click.IntRange(min=1), default=None, help="default: the current version")
def templates_preview(
    key: str, data_json: str | None, channel: str, locale: str, advertising: bool, version: int | None
) -> None:
    """Print what one recipient would get (JSON), exactly as `POST /v1/templates/KEY/preview`."""
    from notifier.errors import NotifierError, ValidationFailed
    from notifier.templates import library as template_library

    data = None
    if data_json is not None:
        try:
            data = json.loads(data_json)
        except ValueError as exc:
            raise click.BadParameter(f"not JSON: {exc}", param_hint="--data") from exc
        if not isinstance(data, dict):
            raise click.BadParameter("must be a JSON object", param_hint="--data")
    with command_context() as ctx:
        try:
            result = template_library.preview(
                ctx, key, channel=channel, locale=locale, data=data, advertising=advertising, version=version
            )
        except NotifierError as exc:  # say why, one line per field
            errors = exc.errors if isinstance(exc, ValidationFailed) else []
            lines = [f"{exc.title}: {exc.detail}", *(f"  {e.pointer or '/'}: {e.detail}" for e in errors)]
            raise click.ClickException("\n".join(lines)) from exc
    click.echo(json.dumps(result, ensure_ascii=False, indent=2))
