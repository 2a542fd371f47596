"""Campaigns for admins: ``notifier campaign create|list|start|status|cancel ...``.

An admin tool: a campaign is found by its id whoever owns it (made here or through the API);
``--owner`` narrows the search to one owner.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from notifier import bootstrap
from notifier.cli.common import command_context


@click.group()
def campaign() -> None:
    """Campaigns: check a recipient list, start it, watch it, cancel it (any owner's by id)."""


@contextmanager
def campaign_context() -> Iterator[bootstrap.Context]:
    """A command context that can publish to the workers, with every feature hook wired."""
    from notifier.bootstrap import wire
    from notifier.tasks import create_celery, make_publish

    with command_context() as ctx:
        ctx.publish = make_publish(create_celery(ctx.settings))
        yield wire(ctx)


def problem_exit(exc: Any) -> click.ClickException:
    """A service refusal (NotifierError) as a one-line-per-field message."""
    fields = (f"  {e.pointer or '/'}: {e.detail}" for e in getattr(exc, "errors", []))
    return click.ClickException("\n".join([f"{exc.title}: {exc.detail}", *fields]))


@campaign.command("create")
@click.option("--name", required=True)
@click.option("--template", required=True)
@click.option("--category", type=click.Choice(["informational", "advertising"]), required=True)
@click.option("--center", required=True, help="code of the sending centre")
@click.option("--csv", "csv_path", type=click.Path(exists=True, dir_okay=False), required=True)
@click.option("--opt-out-number", default=None, help="free 080 number; required for advertising SMS")
@click.option("--channel", type=click.Choice(["sms", "email", "auto"]), default="auto", show_default=True)
@click.option("--data", "data_json", default=None, help="JSON object of values common to all")
@click.option("--owner", default="admin-cli", show_default=True)
def campaign_create(
    name: str,
    template: str,
    category: str,
    center: str,
    csv_path: str,
    opt_out_number: str | None,
    channel: str,
    data_json: str | None,
    owner: str,
) -> None:
    """Check a CSV list and store the campaign as a draft; prints the report, the id last."""
    from pydantic import ValidationError

    from notifier.campaigns import service as campaigns
    from notifier.campaigns import views as campaign_views
    from notifier.errors import NotifierError

    try:
        spec = campaigns.CampaignIn.model_validate(
            {
                "name": name,
                "template": template,
                "category": category,
                "center": center,
                "channel": channel,
                "opt_out_number": opt_out_number,
                "data": json.loads(data_json) if data_json else {},
            }
        )
    except (ValidationError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    with campaign_context() as ctx, open(csv_path, "rb") as stream:
        try:
            view = campaigns.create_campaign(ctx, owner, spec, stream)
        except NotifierError as exc:
            raise problem_exit(exc) from exc
    click.echo("\n".join(campaign_views.report_lines(view)))
    click.echo(view["id"])


@campaign.command("start")
@click.argument("campaign_id")
@click.option("--at", default=None, help="ISO time with a UTC offset, e.g. 2026-12-01T10:00:00+09:00")
@click.option("--owner", default=None, help="only a campaign of this owner (default: any owner)")
def campaign_start(campaign_id: str, at: str | None, owner: str | None) -> None:
    """Start a draft now, or at --at."""
    from datetime import datetime

    from notifier.campaigns import service as campaigns
    from notifier.campaigns import views as campaign_views
    from notifier.errors import NotifierError

    try:
        when = datetime.fromisoformat(at) if at is not None else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--at") from exc
    if when is not None and when.tzinfo is None:
        raise click.BadParameter("give a UTC offset, e.g. +09:00", param_hint="--at")
    with campaign_context() as ctx:
        try:
            view = campaigns.start_campaign(ctx, owner, campaign_id, when)
        except NotifierError as exc:
            raise problem_exit(exc) from exc
    click.echo(campaign_views.progress_line(view))


@campaign.command("status")
@click.argument("campaign_id")
@click.option("--watch", is_flag=True, help="redraw the progress line until the campaign ends")
@click.option("--owner", default=None, help="only a campaign of this owner (default: any owner)")
def campaign_status(campaign_id: str, watch: bool, owner: str | None) -> None:
    """Show a campaign's progress (counts by message status)."""
    from notifier.campaigns import service as campaigns
    from notifier.campaigns import views as campaign_views
    from notifier.domain.campaign_status import CampaignStatus
    from notifier.errors import NotifierError

    # A draft does not move until someone starts it: watching it would never end.
    stays = (CampaignStatus.FINISHED, CampaignStatus.CANCELLED, CampaignStatus.DRAFT)
    with command_context() as ctx:
        while True:
            try:
                view = campaigns.get_campaign(ctx, owner, campaign_id)
            except NotifierError as exc:
                raise problem_exit(exc) from exc
            ended = not watch or CampaignStatus(view["status"]) in stays
            click.echo("\r" + campaign_views.progress_line(view), nl=ended)
            if ended:
                break
            time.sleep(1.0)


@campaign.command("list")
@click.option("--owner", default=None, help="only this owner's campaigns (default: everyone's)")
@click.option("--limit", type=click.IntRange(1, 100), default=20, show_default=True)
@click.option("--cursor", default=None, help="the cursor the previous page printed last")
def campaign_list(owner: str | None, limit: int, cursor: str | None) -> None:
    """List campaigns, newest first: id, status, progress, creation time (UTC) and name."""
    from notifier.campaigns import service as campaigns
    from notifier.errors import NotifierError

    with command_context() as ctx:
        try:
            page = campaigns.list_campaigns(ctx, owner, limit=limit, cursor=cursor)
        except NotifierError as exc:
            raise problem_exit(exc) from exc
    if not page["items"]:
        click.echo("no campaigns")
    for view in page["items"]:
        done, total = view["progress"]["done"], view["progress"]["total"]
        created = (view.get("created_at") or "")[:16]
        click.echo(f"{view['id']}  {view['status']:<9} {done:,}/{total:,}  {created}  {view['name']}")
    if page["next_cursor"]:
        click.echo(f"more: --cursor {page['next_cursor']}")


@campaign.command("cancel")
@click.argument("campaign_id")
@click.option("--owner", default=None, help="only a campaign of this owner (default: any owner)")
def campaign_cancel(campaign_id: str, owner: str | None) -> None:
    """Cancel a campaign: messages not yet handed to a worker are cancelled; sent ones stay sent."""
    from notifier.campaigns import service as campaigns
    from notifier.campaigns import views as campaign_views
    from notifier.errors import NotifierError

    with campaign_context() as ctx:
        try:
            view = campaigns.cancel_campaign(ctx, owner, campaign_id)
        except NotifierError as exc:
            raise problem_exit(exc) from exc
    click.echo(campaign_views.progress_line(view))
