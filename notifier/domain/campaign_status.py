"""Campaign statuses and the one table of transitions between them.

``draft`` (created with its validation report) -> ``scheduled`` (starts at a later time) ->
``running`` (messages being created and sent) -> ``finished`` (none pending any more).
``cancelled`` is reachable from the first three; ``finished`` and ``cancelled`` are final.
A campaign never goes back to ``draft``.
"""

from __future__ import annotations

from enum import StrEnum

from notifier.errors import InvalidTransition


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    RUNNING = "running"
    FINISHED = "finished"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return not CAMPAIGN_TRANSITIONS[self]


CAMPAIGN_TRANSITIONS: dict[CampaignStatus, frozenset[CampaignStatus]] = {
    CampaignStatus.DRAFT: frozenset(
        {CampaignStatus.SCHEDULED, CampaignStatus.RUNNING, CampaignStatus.CANCELLED}
    ),
    CampaignStatus.SCHEDULED: frozenset({CampaignStatus.RUNNING, CampaignStatus.CANCELLED}),
    CampaignStatus.RUNNING: frozenset({CampaignStatus.FINISHED, CampaignStatus.CANCELLED}),
    CampaignStatus.FINISHED: frozenset(),
    CampaignStatus.CANCELLED: frozenset(),
}


def campaign_can_move(current: CampaignStatus, new: CampaignStatus) -> bool:
    """Tell whether a campaign in ``current`` may move to ``new``."""
    return new in CAMPAIGN_TRANSITIONS[current]


def campaign_sources_of(new: CampaignStatus) -> tuple[CampaignStatus, ...]:
    """List the statuses from which ``new`` may be reached (for conditional updates)."""
    return tuple(s for s, targets in CAMPAIGN_TRANSITIONS.items() if new in targets)


def check_campaign_move(current: CampaignStatus, new: CampaignStatus) -> None:
    """Raise ``InvalidTransition`` unless ``current -> new`` is allowed."""
    if not campaign_can_move(current, new):
        raise InvalidTransition(f"campaign {current.value} -> {new.value} is not allowed")
