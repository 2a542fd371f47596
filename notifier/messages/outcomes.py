"""Recording what happened to claimed messages: sent, retry later, failed, or back in the queue.

An outcome moves a message out of ``sending`` only while the claim is still the one it was
sent under (``claimed_at`` unchanged): a worker whose claim recovery took over records
nothing, and a status never moves backwards (``domain.status``). The outcomes of a batch are
collected as it is sent and written in one transaction: one UPDATE per status, one history
INSERT per status.

An unknown outcome (the provider may have taken the message) records nothing: the message
stays ``sending`` until recovery asks the provider (``scheduler.recover_stuck``).
"""

from __future__ import annotations

import logging
import random
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, update

from notifier.channels.base import Accepted
from notifier.context import Context
from notifier.domain.message_status import Status
from notifier.errors import UNKNOWN_OUTCOME, ProviderError
from notifier.messages.batches import transition_each
from notifier.messages.model import Message
from notifier.messages.tables import ERROR_CODE_LENGTH, PROVIDER_ID_LENGTH, messages

log = logging.getLogger("notifier.messages")

TWILIO_ERROR_REASONS = {
    "21211": "invalid 'To' phone number",
    "21610": "recipient has unsubscribed (replied STOP)",
    "21614": "'To' number is not a mobile number",
    "30003": "unreachable destination handset",
    "30005": "unknown destination handset",
    "30006": "landline or unreachable carrier",
    "30007": "carrier filtered the message",
    "30008": "unknown error from the carrier",
}
REQUEUED = "queued again: the claim grew too old to send safely"


@dataclass(frozen=True)
class Outcome:
    """What became of one message a worker was given: its status now, and when it is retried."""

    status: str
    retry_in: float | None = None


# Shared instances: the send loop returns one per message and these need no fields of their own.
SENT = Outcome(Status.SENT.value)
SKIPPED = Outcome("skipped")  # not claimed: sent, settled or taken by another worker already
NOT_SENT = Outcome(Status.QUEUED.value)
IN_DOUBT = Outcome(Status.SENDING.value)  # the provider may have it: recovery will ask


def backoff_seconds(ctx: Context, attempt: int) -> float:
    """Exponential backoff with jitter: half fixed, half random, capped."""
    ceiling = min(ctx.settings.retry_max_seconds, ctx.settings.retry_base_seconds * 2 ** (attempt - 1))
    return float(ceiling / 2 + random.uniform(0, ceiling / 2))


def storable_provider_id(message: Message, provider_id: str) -> str | None:
    """The provider's id as stored; one too long to store is left out (the message was sent)."""
    if len(provider_id) <= PROVIDER_ID_LENGTH:
        return provider_id
    log.warning(
        "provider id too long to keep (%d characters)", len(provider_id), extra={"message_id": message.id}
    )
    return None


class Outcomes:
    """The outcomes of sending claimed messages, kept until ``record`` writes them together."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        # (new status, claimed_at of the claim) -> message id -> the columns it sets
        self._moves: dict[tuple[Status, datetime | None], dict[str, dict[str, Any]]] = defaultdict(dict)
        self._details: dict[str, str | None] = {}

    def accepted(self, message: Message, accepted: Accepted) -> None:
        """The provider took the message."""
        self._move(
            message,
            Status.SENT,
            None,
            provider=accepted.provider,
            provider_message_id=storable_provider_id(message, accepted.provider_message_id),
            sandboxed=accepted.sandboxed,
            error_code=None,
            error_reason=None,
        )

    def failed(self, message: Message, error: ProviderError) -> Outcome:
        """Retry later, fail for good, or (outcome unknown) leave it to recovery to ask the provider."""
        if error.code == UNKNOWN_OUTCOME:
            log.warning("provider outcome unknown; recovery will ask", extra={"message_id": message.id})
            return IN_DOUBT
        reason = TWILIO_ERROR_REASONS.get(error.code, error.message)
        attempts = message.attempts
        if error.retryable and attempts < self.ctx.settings.max_attempts:
            delay = backoff_seconds(self.ctx, attempts)
            self._move(
                message,
                Status.SCHEDULED,
                f"attempt {attempts} failed ({error.code}); retry in {delay:.1f}s",
                send_at=self.ctx.clock() + timedelta(seconds=delay),
                error_code=error.code[:ERROR_CODE_LENGTH],
                error_reason=reason,
            )
            return Outcome(Status.SCHEDULED.value, retry_in=delay)
        detail = f"{error.code}: {reason}" + (" (gave up after retries)" if error.retryable else "")
        self._move(
            message, Status.FAILED, detail, error_code=error.code[:ERROR_CODE_LENGTH], error_reason=reason
        )
        return Outcome(Status.FAILED.value)

    def waits_for_a_slot(self, message: Message, wait: float, detail: str) -> Outcome:
        """No send slot soon (rate limit): back to ``scheduled`` for then; waiting is no failed attempt."""
        self._move(
            message,
            Status.SCHEDULED,
            detail,
            send_at=self.ctx.clock() + timedelta(seconds=wait),
            attempts=max(0, message.attempts - 1),
        )
        return Outcome(Status.SCHEDULED.value, retry_in=wait)

    def stopped(self, message: Message, status: Status, detail: str) -> Outcome:
        """A send check refused the message right before the provider call (e.g. an opt-out)."""
        self._move(message, status, detail)
        return Outcome(status.value)

    def not_sent(self, message: Message) -> Outcome:
        """Never handed to the provider (its claim grew too old): back to the queue, no attempt used."""
        self._move(
            message,
            Status.QUEUED,
            REQUEUED,
            attempts=max(0, message.attempts - 1),
            enqueued_at=self.ctx.clock(),
        )
        return NOT_SENT

    def _move(self, message: Message, status: Status, detail: str | None, **values: Any) -> None:
        self._moves[status, message.claimed_at][message.id] = values
        self._details[message.id] = detail

    def record(self) -> list[str]:
        """Write every outcome kept so far in one transaction; return the ids queued again."""
        if not self._moves:
            return []
        now = self.ctx.clock()
        requeued: list[str] = []
        with self.ctx.engine.begin() as conn:
            for (status, claimed_at), changes in self._moves.items():
                moved = transition_each(
                    conn,
                    status,
                    now,
                    changes,
                    details=self._details,
                    only_from=[Status.SENDING],
                    only_claimed_at=claimed_at,
                )
                if status is Status.SENT and len(moved) < len(changes):
                    _keep_provider_ids(conn, {i: v for i, v in changes.items() if i not in set(moved)})
                if status is Status.QUEUED:
                    requeued += moved
        self._moves.clear()
        self._details.clear()
        return requeued


def _keep_provider_ids(conn: Connection, overtaken: Mapping[str, Mapping[str, Any]]) -> None:
    """A delivery callback overtook the worker: keep its status, but remember the provider's id."""
    for message_id, values in overtaken.items():
        conn.execute(
            update(messages)
            .where(messages.c.id == message_id, messages.c.provider_message_id.is_(None))
            .values(provider=values["provider"], provider_message_id=values["provider_message_id"])
        )
