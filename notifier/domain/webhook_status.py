"""Webhook delivery statuses and the one table of transitions between them.

A delivery is written ``pending`` in the transaction of the change it reports. The scheduler
claims it (``pending -> delivering``) with one conditional UPDATE, so two ticks never POST it
twice at once, then records the outcome: ``delivered``, ``failed`` (no attempt left, or not
worth retrying), or ``pending`` again with a later ``next_attempt_at``. A claim that was lost
(the process died mid-POST) goes back to ``pending`` after a while. ``delivered`` and
``failed`` are final.
"""

from __future__ import annotations

from enum import StrEnum

from notifier.errors import InvalidTransition


class WebhookDeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERING = "delivering"
    DELIVERED = "delivered"
    FAILED = "failed"

    @property
    def is_final(self) -> bool:
        return not WEBHOOK_DELIVERY_TRANSITIONS[self]


WEBHOOK_DELIVERY_TRANSITIONS: dict[WebhookDeliveryStatus, frozenset[WebhookDeliveryStatus]] = {
    WebhookDeliveryStatus.PENDING: frozenset({WebhookDeliveryStatus.DELIVERING}),
    WebhookDeliveryStatus.DELIVERING: frozenset(
        {WebhookDeliveryStatus.DELIVERED, WebhookDeliveryStatus.FAILED, WebhookDeliveryStatus.PENDING}
    ),
    WebhookDeliveryStatus.DELIVERED: frozenset(),
    WebhookDeliveryStatus.FAILED: frozenset(),
}


def delivery_can_move(current: WebhookDeliveryStatus, new: WebhookDeliveryStatus) -> bool:
    """Tell whether a delivery in ``current`` may move to ``new``."""
    return new in WEBHOOK_DELIVERY_TRANSITIONS[current]


def delivery_sources_of(new: WebhookDeliveryStatus) -> tuple[WebhookDeliveryStatus, ...]:
    """List the statuses from which ``new`` may be reached (for conditional updates)."""
    return tuple(s for s, targets in WEBHOOK_DELIVERY_TRANSITIONS.items() if new in targets)


def check_delivery_move(current: WebhookDeliveryStatus, new: WebhookDeliveryStatus) -> None:
    """Raise ``InvalidTransition`` unless ``current -> new`` is allowed."""
    if not delivery_can_move(current, new):
        raise InvalidTransition(f"webhook delivery {current.value} -> {new.value} is not allowed")
