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

from notifier.domain.lifecycle import Lifecycle


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

WEBHOOK_DELIVERY_LIFECYCLE = Lifecycle("webhook delivery", WEBHOOK_DELIVERY_TRANSITIONS)
delivery_can_move = WEBHOOK_DELIVERY_LIFECYCLE.can_move
delivery_sources_of = WEBHOOK_DELIVERY_LIFECYCLE.sources_of
check_delivery_move = WEBHOOK_DELIVERY_LIFECYCLE.check_move
