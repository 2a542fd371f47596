"""The ``notifier`` command."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from notifier import bootstrap, logs
from notifier.config import BULK_QUEUE, TRANSACTIONAL_QUEUE, Settings
from notifier.errors import ConfigError

log = logging.getLogger("notifier.scheduler")


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


@click.group()
def main() -> None:
    """Appointment reminders and programme announcements for Korean employment centres."""


@main.group()
def db() -> None:
    """Database schema."""


def prepare(ctx: bootstrap.Context) -> None:
    """Upgrade the schema and load the shipped templates (and other shipped data)."""
    from notifier.bootstrap import load_shipped_data
    from notifier.storage.db import upgrade

    upgrade(ctx.engine)
    load_shipped_data(ctx)


@db.command("upgrade")
def db_upgrade() -> None:
    """Bring the schema up to date and load the shipped templates as version 1."""
    with command_context() as ctx:
        prepare(ctx)
    click.echo("database is up to date")


@main.group()
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


@main.group()
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


@main.command()
@click.option("--bind", default="127.0.0.1:8000", show_default=True)
@click.option("--workers", default=2, show_default=True)
@click.option(
    "--threads",
    default=8,
    show_default=True,
    help="threads per worker (gthread; 1: sync workers); a worker's requests share commits",
)
def api(bind: str, workers: int, threads: int) -> None:
    """Serve the API with gunicorn."""
    settings_or_exit()
    threading = ["--worker-class", "gthread", "--threads", str(threads)] if threads > 1 else []
    os.execvp(  # noqa: S606 - replace this process with gunicorn
        sys.executable,
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            bind,
            "--workers",
            str(workers),
            *threading,
            "notifier:serve_app()",
        ],
    )


@main.command()
@click.option("--queues", default=f"{TRANSACTIONAL_QUEUE},{BULK_QUEUE}", show_default=True)
@click.option("--concurrency", default=4, show_default=True)
@click.option(
    "--pool", default="threads", show_default=True, type=click.Choice(["threads", "prefork", "solo"])
)
def worker(queues: str, concurrency: int, pool: str) -> None:
    """Run a Celery worker on the given lanes."""
    from notifier.tasks import create_celery, warm_up_on_start

    settings = settings_or_exit()
    logs.configure(settings.log_level)
    app = create_celery(settings)
    warm_up_on_start(app)
    app.worker_main(
        [
            "worker",
            "-Q",
            queues,
            "-c",
            str(concurrency),
            "-P",
            pool,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            settings.log_level,
        ]
    )


@main.command()
@click.option("--once", is_flag=True, help="run one tick and exit")
def scheduler(once: bool) -> None:
    """Move due messages to the queue, expire overdue ones, recover lost ones."""
    from notifier.bootstrap import wire
    from notifier.messages.scheduler import tick
    from notifier.tasks import create_celery, make_publish

    settings = settings_or_exit()
    logs.configure(settings.log_level)
    ctx = bootstrap.build(settings)
    ctx.publish = make_publish(create_celery(settings))
    wire(ctx)
    stopping = False

    def stop(*_: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while not stopping:
        started = time.monotonic()
        try:
            report = tick(ctx)
            if any(vars(report).values()):
                log.info("tick", extra={k: v for k, v in vars(report).items() if v})
        except Exception:  # keep ticking; the next tick retries. Logged through the masking formatter.
            log.exception("scheduler tick failed")
        if once:
            return
        time.sleep(max(0.0, settings.scheduler_interval - (time.monotonic() - started)))


@main.command()
@click.option("--port", default=8000, show_default=True)
def dev(port: int) -> None:
    """Run everything on embedded defaults: API, worker and scheduler, sandbox outbox."""
    os.environ.setdefault("NOTIFIER_PUBLIC_URL", f"http://127.0.0.1:{port}")
    settings = settings_or_exit()
    ctx = bootstrap.build(settings)
    prepare(ctx)
    from notifier.keys import repository as key_repo

    with ctx.engine.begin() as conn:
        key = key_repo.create(conn, "demo", ["admin"], ctx.clock())
    me = [sys.executable, "-m", "notifier"]
    children = [
        subprocess.Popen([*me, "api", "--bind", f"127.0.0.1:{port}", "--workers", "2"]),  # noqa: S603
        subprocess.Popen([*me, "worker", "--concurrency", "2"]),  # noqa: S603
        subprocess.Popen([*me, "scheduler"]),  # noqa: S603
    ]
    url = f"http://127.0.0.1:{port}"
    body = json.dumps(
        {
            "template": "appointment_confirmation",
            "to": {"phone": "010-1234-5678", "name": "홍길동"},
            "center": {"code": "seosan"},
            "data": demo_data(),
        },
        ensure_ascii=False,
    )
    click.echo(f"""
notifier is running at {url}  (sandbox mode: nothing leaves this machine)
  outbox:  {url}/outbox
  API doc: {url}/openapi.json
  demo API key (admin): {key}

Send a message:
  curl -sS {url}/v1/messages -H 'Authorization: Bearer {key}' \\
    -H 'Content-Type: application/json' -d '{body}'

Press Ctrl-C to stop.
""")

    def stop(*_: Any) -> None:
        for child in children:
            child.terminate()

    signal.signal(signal.SIGTERM, stop)
    try:
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        stop()
        for child in children:
            child.wait(timeout=20)


def demo_data() -> dict[str, Any]:
    return {
        "appointment": {
            "kind": "in_depth_counseling",
            "kind_label": "1:1 심층상담",
            "when": "12월 3일(수) 오후 2시",
            "duration": "50분",
            "location": "서산고용복지+센터 2층 상담실",
            "counselor": "김상담",
            "link": "",
        }
    }


@main.group()
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


@main.group()
def campaign() -> None:
    """Campaigns: check a recipient list, start it, watch it (as owner ``admin-cli`` by default)."""


@contextmanager
def campaign_context() -> Iterator[bootstrap.Context]:
    """A command context that can ring the workers, with every feature hook wired."""
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
    click.echo("\n".join(campaigns.report_lines(view)))
    click.echo(view["id"])


@campaign.command("start")
@click.argument("campaign_id")
@click.option("--at", default=None, help="ISO time with a UTC offset, e.g. 2026-12-01T10:00:00+09:00")
@click.option("--owner", default="admin-cli", show_default=True)
def campaign_start(campaign_id: str, at: str | None, owner: str) -> None:
    """Start a draft now, or at --at."""
    from datetime import datetime

    from notifier.campaigns import service as campaigns
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
    click.echo(campaigns.progress_line(view))


@campaign.command("status")
@click.argument("campaign_id")
@click.option("--watch", is_flag=True, help="redraw the progress line until the campaign ends")
@click.option("--owner", default="admin-cli", show_default=True)
def campaign_status(campaign_id: str, watch: bool, owner: str) -> None:
    """Show a campaign's progress (counts by message status)."""
    from notifier.campaigns import service as campaigns
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
            click.echo("\r" + campaigns.progress_line(view), nl=ended)
            if ended:
                break
            time.sleep(1.0)


if __name__ == "__main__":
    main()
