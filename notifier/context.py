"""The context every use case takes: settings, clients and the hooks features contribute.

It is built in one place, ``notifier.bootstrap``; feature code imports this module for the
type and never builds a client itself. Each hook a feature adds has a named, typed field.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine

from notifier.domain.message_status import Status
from notifier.lookups import Lookups

if TYPE_CHECKING:
    from redis import Redis

    from notifier.channels.base import AlimtalkSender, EmailSender
    from notifier.channels.failover import FailoverSender
    from notifier.config import Settings
    from notifier.domain.erasure import Person
    from notifier.messages.claims import Rejection
    from notifier.messages.intake import IntakeWriter
    from notifier.messages.throttle import RedisThrottle
    from notifier.templates.rendering import Renderer

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
Clock = Callable[[], datetime]
Row = Mapping[str, Any]
Verdict = tuple[Status, str]
# A claim check: given queued rows, the verdict (new status, why) for each one that may not be
# sent now, keyed by message id. It runs in the claim's transaction, on ``conn``.
ClaimCheck = Callable[[Connection, Sequence[Row], datetime], Mapping[str, Verdict]]
# A check the send loop runs again on claimed rows right before the provider call (an opt-out
# answered while the message waited for its send slot); its verdicts are final statuses.
SendCheck = ClaimCheck
# Renders, during their claim, messages stored without content (campaign messages): for each,
# the columns to store or why it is not sent.
RenderHook = Callable[["Context", Connection, Sequence[Row]], Mapping[str, "Mapping[str, Any] | Rejection"]]
# Told which campaigns a sent batch belonged to (the last batch of a campaign finishes it).
BatchSentHook = Callable[["Context", Collection[str]], object]
# Removes a person from a feature's tables (campaign lists, appointments, webhook payloads) in
# the erasure's transaction; returns how many rows it changed.
EraseHook = Callable[[Connection, "Person", datetime], int]
# Assigns a new appointment (id, centre code, now) to a running reminder-plan experiment of its
# centre, in the booking's transaction: (experiment id, the arm's plan name), or None.
PlanAssigner = Callable[[Connection, str, str, datetime], "tuple[str, str] | None"]
# Publishes committed message ids on a lane (the broker); losing a call is safe.
Publish = Callable[[str, list[str]], None]


def utc_now() -> datetime:
    return datetime.now(UTC)


def publish_nowhere(lane: str, ids: list[str]) -> None:
    """The default publisher: nothing listens (a CLI command, a unit of work in a test)."""


@dataclass
class Context:
    """Everything a use case needs, built once per process by ``bootstrap.build``."""

    settings: Settings
    engine: Engine
    renderer: Renderer
    sms: FailoverSender  # every SMS provider, in each centre's order, behind the circuit breaker
    email: EmailSender
    clock: Clock = utc_now
    templates_dir: Path = TEMPLATES_DIR
    publish: Publish = publish_nowhere
    redis: Redis | None = None
    alimtalk: AlimtalkSender | None = None  # KakaoTalk AlimTalk, with SOLAPI
    # Hooks features add in ``bootstrap.wire`` (what can stop a send, what the scheduler runs):
    claim_checks: list[ClaimCheck] = field(default_factory=list)
    send_checks: list[SendCheck] = field(default_factory=list)
    tick_hooks: list[Callable[[Context], dict[str, int]]] = field(default_factory=list)
    render_unrendered: RenderHook | None = None
    batch_sent_hooks: list[BatchSentHook] = field(default_factory=list)
    assign_reminder_plan: PlanAssigner | None = None
    erase_hooks: list[EraseHook] = field(default_factory=list)
    throttle: RedisThrottle | None = None  # the shared per-sender rate limit, with Redis
    wired: bool = False
    # Per-process state some features keep:
    memo: dict[str, dict[Any, Any]] = field(default_factory=dict, repr=False)
    webhook_pool: ThreadPoolExecutor | None = field(default=None, repr=False)
    lookups: Lookups = field(init=False)
    intake_writer: IntakeWriter | None = field(init=False, default=None, repr=False)

    def __post_init__(self) -> None:
        self.lookups = Lookups(self.settings.lookup_ttl_seconds)

    def pass_due(self, name: str) -> bool:
        """Whether the scheduler's periodic pass ``name`` may run now (see ``rest``)."""
        next_pass: float = self.memo.get(name, {}).get("next_pass", 0.0)
        return time.monotonic() >= next_pass

    def rest(self, name: str, seconds: float) -> None:
        """Let the periodic pass ``name`` wait ``seconds`` before it runs again (in this process)."""
        self.memo.setdefault(name, {})["next_pass"] = time.monotonic() + seconds

    @property
    def sms_to_outbox(self) -> bool:
        return self.settings.twilio is None and self.settings.solapi is None

    @property
    def email_to_outbox(self) -> bool:
        return self.settings.smtp is None
