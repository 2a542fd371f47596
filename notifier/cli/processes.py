"""The long-running processes: ``notifier api|worker|scheduler|dev``."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from typing import Any

import click

from notifier import bootstrap, logs
from notifier.cli.common import prepare, settings_or_exit
from notifier.config import BULK_QUEUE, TRANSACTIONAL_QUEUE, Settings

log = logging.getLogger("notifier.scheduler")
# gunicorn answers what exceeds these itself, in text/html, before the app sees the request;
# they sit above the app's own limits (notifier.api.limits), so the app answers problem+json
# for everything short of a request line over 8 kB, which gunicorn cannot take at all.
GUNICORN_MAX_REQUEST_LINE = 8190  # the largest gunicorn allows
GUNICORN_MAX_HEADERS = 100
GUNICORN_MAX_HEADER_BYTES = 16380


@click.command()
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
    limits = [
        *("--limit-request-line", str(GUNICORN_MAX_REQUEST_LINE)),
        *("--limit-request-fields", str(GUNICORN_MAX_HEADERS)),
        *("--limit-request-field_size", str(GUNICORN_MAX_HEADER_BYTES)),
    ]
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
            *limits,
            "notifier:serve_app()",
        ],
    )


@click.command()
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


@click.command()
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


@click.command()
@click.option("--port", default=8000, show_default=True)
def dev(port: int) -> None:
    """Run everything on embedded defaults: API, worker and scheduler, the outbox."""
    os.environ.setdefault("NOTIFIER_PUBLIC_URL", f"http://127.0.0.1:{port}")
    # Trying the service out at night must show a message at once, not at 08:00: quiet hours are
    # off in dev unless set (the banner says so).
    os.environ.setdefault("NOTIFIER_QUIET_HOURS", "00:00-00:00")
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
    quiet = "off" if settings.quiet_hours.start == settings.quiet_hours.end else "on"
    click.echo(f"""
notifier is running at {url}
{chr(10).join(where_messages_go(settings))}
  quiet hours: {quiet} (NOTIFIER_QUIET_HOURS)
  outbox:  {where_the_outbox_is(settings, url)}
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


def where_messages_go(settings: Settings) -> list[str]:
    """Say, per channel, whether messages leave this machine and through what."""
    urls = {"solapi": settings.solapi, "twilio": settings.twilio}
    order = settings.sms_routes.order(None, [name for name, given in urls.items() if given])
    labels = {"solapi": "SOLAPI", "twilio": "Twilio"}
    if order:  # the providers' default order (NOTIFIER_SMS_PROVIDERS), as ctx.sms tries them
        first = urls[order[0]]
        sms = f"  SMS:     sent through {labels[order[0]]} at {first.base_url if first else ''}"
        sms += "".join(
            f", else {labels[name]} while {labels[order[0]]} is out of rotation" for name in order[1:]
        )
    else:
        sms = "  SMS:     kept in the outbox (nothing leaves this machine)"
    email = (
        f"  email:   sent to the SMTP server at {settings.smtp.host}:{settings.smtp.port}"
        if settings.smtp
        else "  email:   kept in the outbox (nothing leaves this machine)"
    )
    return [sms, email]


def where_the_outbox_is(settings: Settings, url: str) -> str:
    """The outbox page's address, or why there is none to open."""
    if settings.outbox_shown:
        return f"{url}/outbox"
    if settings.outbox_channels:
        return "not shown: a provider is configured (NOTIFIER_PUBLIC_OUTBOX=true on a staging machine)"
    return "none: every channel has a provider"


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
