"""Claiming queued messages for sending: many at once, in one transaction, each at most once.

A worker sends a message only after it won the claim: the conditional UPDATE ``queued ->
sending`` (stamped with ``claimed_at``, the claim's identity) that only one caller can win.
Before that the claim checks run: the message's validity window, its attempt bound, and the
checks feature modules register in ``ctx.claim_checks`` (opt-outs, appointment
revisions, the advertising night hold). A check takes many rows and answers for each, so a
batch of messages costs one SELECT, one query per check and one statement that claims them
and writes their history (``batches``), whatever its size. A message that
fails a check moves from ``queued`` to the check's status instead.

Campaign messages are stored unrendered; a ``render`` hook renders them in the same
transaction and the claiming statement stores their content, so a retry sends the same text.

Content the database cannot store (a NUL that came in through a stored campaign's values,
say) is a permanent failure, not a crash to retry: a rendered message holding it fails with
``unstorable``, and if the claiming statement is refused anyway (``DataError``), the batch is
claimed again one message at a time and the message the database refuses alone fails, so a
worker never moves a message between ``queued`` and a crash forever.

The messages won come back as ``model.Message``. The claim checks and the render hook, which
other features register, still read each row as a mapping (``context.Row``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.exc import DataError

from notifier.context import Context, RenderHook
from notifier.domain.message_status import Status
from notifier.domain.storable import json_problems, shown
from notifier.messages.batches import transition_each
from notifier.messages.model import Message
from notifier.messages.tables import messages, status_of_rows_found_by_id

MESSAGE_FIELDS = tuple(f.name for f in fields(Message))


@dataclass(frozen=True)
class Rejection:
    """Why a queued message is not sent, the status it moves to, and what else is recorded."""

    status: Status
    detail: str
    values: Mapping[str, Any] = field(default_factory=dict)


def claim(ctx: Context, message_id: str) -> Message | None:
    """Move a queued message to ``sending``; return it only if this caller won the claim."""
    claimed = claim_many(ctx, [message_id])
    return claimed[0] if claimed else None


UNSTORABLE = "unstorable"


def claim_many(ctx: Context, message_ids: Sequence[str], render: RenderHook | None = None) -> list[Message]:
    """Claim the queued messages among ``message_ids``; return those this caller won, in order."""
    if not message_ids:
        return []
    try:
        return _claim_batch(ctx, message_ids, render)
    except DataError as exc:
        if len(message_ids) == 1:  # this message's own content is what the database refuses
            _fail_unstorable(ctx, message_ids[0], str(exc.orig))
            return []
    return [won for message_id in message_ids for won in claim_many(ctx, [message_id], render)]


def _fail_unstorable(ctx: Context, message_id: str, reason: str) -> None:
    detail = f"{UNSTORABLE}: the database refuses its content: {shown(reason)[:500]}"
    with ctx.engine.begin() as conn:
        _reject(conn, {message_id: _unstorable(detail)}, ctx.clock())


def _unstorable(detail: str) -> Rejection:
    return Rejection(Status.FAILED, detail, {"error_code": UNSTORABLE, "error_reason": detail[:1000]})


def _unstorable_content(content: Mapping[str, Any]) -> Rejection | None:
    """A failure if the rendered content holds what the database cannot store (e.g. a NUL)."""
    where = ", ".join(f"{p.pointer} {p.detail}" for p in json_problems(dict(content)))
    return _unstorable(f"{UNSTORABLE}: the rendered message: {where}") if where else None


def _claim_batch(ctx: Context, message_ids: Sequence[str], render: RenderHook | None) -> list[Message]:
    now = ctx.clock()
    with ctx.engine.begin() as conn:
        query = select(messages).where(
            messages.c.id.in_(list(message_ids)), status_of_rows_found_by_id() == Status.QUEUED.value
        )
        # The claim checks and the render hook of other features read rows as mappings.
        rows = [dict(row) for row in conn.execute(query).mappings()]
        rejected = _checked(ctx, conn, rows, now)
        ready = [row for row in rows if row["id"] not in rejected]
        content: dict[str, Mapping[str, Any]] = {}
        unrendered = [row for row in ready if row["body"] is None]
        if render is not None and unrendered:
            for message_id, outcome in render(ctx, conn, unrendered).items():
                unstorable = _unstorable_content(outcome) if not isinstance(outcome, Rejection) else None
                if isinstance(outcome, Rejection):
                    rejected[message_id] = outcome
                elif unstorable is not None:
                    rejected[message_id] = unstorable
                else:
                    content[message_id] = outcome
        _reject(conn, rejected, now)
        providers = _Providers(ctx)
        claiming = {
            row["id"]: {
                **content.get(row["id"], {}),
                "claimed_at": now,
                "attempts": row["attempts"] + 1,
                # Recorded before any provider call, so recovery knows whom to ask.
                "provider": providers.of(row),
            }
            for row in ready
            if row["id"] not in rejected
        }
        won = set(transition_each(conn, Status.SENDING, now, claiming, only_from=[Status.QUEUED]))
    position = {message_id: n for n, message_id in enumerate(message_ids)}
    claimed = [
        _as_claimed(row, content.get(row["id"]), now, claiming[row["id"]]["provider"])
        for row in rows
        if row["id"] in won
    ]
    claimed.sort(key=lambda message: position[message.id])
    return claimed


def last_look(ctx: Context, claimed: Sequence[Message], now: datetime) -> dict[str, Rejection]:
    """Run the send checks on claimed messages about to go out; return those that may not.

    One short transaction, one query per check for all of ``claimed``, closed before the
    provider call. The caller records the verdicts (``outcomes.stopped``).
    """
    if not ctx.send_checks or not claimed:
        return {}
    rows = [{name: getattr(message, name) for name in MESSAGE_FIELDS} for message in claimed]
    rejected: dict[str, Rejection] = {}
    with ctx.engine.connect() as conn:
        for check in ctx.send_checks:
            remaining = [row for row in rows if row["id"] not in rejected]
            for message_id, (status, detail) in check(conn, remaining, now).items():
                rejected[message_id] = Rejection(status, detail)
    return rejected


class _Providers:
    """The provider each claimed message goes to first: one breaker look per centre per claim."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.by_center: dict[str | None, str] = {}

    def of(self, row: Mapping[str, Any]) -> str:
        if row["channel"] == "kakao":
            return self.ctx.alimtalk.name if self.ctx.alimtalk is not None else "solapi"
        if row["channel"] != "sms":
            return self.ctx.email.name
        code = (row["center"] or {}).get("code")
        if code not in self.by_center:
            self.by_center[code] = self.ctx.sms.first(code)
        return self.by_center[code]


def _as_claimed(
    row: dict[str, Any], content: Mapping[str, Any] | None, now: datetime, provider: str
) -> Message:
    """The message as the claim left it: its rendered content stored, stamped ``sending``."""
    # ``row`` is this claim's own copy and the hooks are done with it: update it in place
    # rather than build another dict per message.
    if content:
        row.update(content)
    row["status"] = Status.SENDING
    row["claimed_at"] = now
    row["provider"] = provider
    row["attempts"] += 1
    row["updated_at"] = now
    # Positional: the row holds every column in the table's order (``select(messages)``, and
    # updating a key keeps its place), which is the order of Message's fields. Forty keyword
    # arguments would cost the hot path several times more.
    return Message(*row.values())


def _checked(
    ctx: Context, conn: Connection, rows: list[dict[str, Any]], now: datetime
) -> dict[str, Rejection]:
    """Run every claim check, in order; a message is answered by the first check that refuses it."""
    rejected: dict[str, Rejection] = {}
    for row in rows:
        if row["expires_at"] is not None and now > row["expires_at"]:
            rejected[row["id"]] = Rejection(Status.EXPIRED, "validity window passed")
        elif row["attempts"] >= ctx.settings.max_attempts:  # e.g. recovered again and again
            detail = f"gave up after {row['attempts']} attempts"
            rejected[row["id"]] = Rejection(Status.FAILED, detail, {"error_code": "attempts_exhausted"})
    for check in ctx.claim_checks:
        remaining = [row for row in rows if row["id"] not in rejected]
        if not remaining:
            break
        for message_id, (status, detail) in check(conn, remaining, now).items():
            rejected[message_id] = Rejection(status, detail)
    return rejected


def _reject(conn: Connection, rejected: Mapping[str, Rejection], now: datetime) -> None:
    """Move each refused message from ``queued`` to its new status: one UPDATE per status."""
    by_status: dict[Status, dict[str, Rejection]] = defaultdict(dict)
    for message_id, rejection in rejected.items():
        by_status[rejection.status][message_id] = rejection
    for status, group in by_status.items():
        transition_each(
            conn,
            status,
            now,
            {message_id: r.values for message_id, r in group.items()},
            details={message_id: r.detail for message_id, r in group.items()},
            only_from=[Status.QUEUED],
        )
