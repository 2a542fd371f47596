"""Which provider a claimed message is attempted with, kept on the message before the call.

The claim records the provider a message will most likely go to (``claims``); when the send
moves it to another one (failover, ``channels.failover``), ``record_provider`` writes the new
one first. Recovery then asks exactly that provider whether it took the message.
"""

from __future__ import annotations

from sqlalchemy import update

from notifier.context import Context
from notifier.domain.message_status import Status
from notifier.messages.model import Message
from notifier.messages.tables import messages


def record_provider(ctx: Context, message: Message, provider: str) -> bool:
    """Record the provider ``message`` is about to be handed to; False if its claim was lost."""
    with ctx.engine.begin() as conn:
        changed = conn.execute(
            update(messages)
            .where(
                messages.c.id == message.id,
                messages.c.status == Status.SENDING.value,
                messages.c.claimed_at == message.claimed_at,
            )
            .values(provider=provider)
        ).rowcount
    return bool(changed)


def record_providers(ctx: Context, claimed: list[Message], provider: str) -> set[str]:
    """Record one provider for many claimed messages; return the ids whose claim still holds."""
    if not claimed:
        return set()
    kept: set[str] = set()
    with ctx.engine.begin() as conn:
        for claimed_at in {message.claimed_at for message in claimed}:
            ids = [m.id for m in claimed if m.claimed_at == claimed_at]
            kept.update(
                conn.execute(
                    update(messages)
                    .where(
                        messages.c.id.in_(ids),
                        messages.c.status == Status.SENDING.value,
                        messages.c.claimed_at == claimed_at,
                    )
                    .values(provider=provider)
                    .returning(messages.c.id)
                ).scalars()
            )
    return kept
