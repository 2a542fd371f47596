"""Campaign statuses and the one table of transitions between them.

``draft`` (created with its validation report) -> ``scheduled`` (starts at a later time) ->
``running`` (messages being created and sent) -> ``finished`` (none pending any more).
``cancelled`` is reachable from the first three; ``finished`` and ``cancelled`` are final.
A campaign never goes back to ``draft``.
"""

from __future__ import annotations

from enum import StrEnum

from notifier.domain.lifecycle import Lifecycle


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

CAMPAIGN_LIFECYCLE = Lifecycle("campaign", CAMPAIGN_TRANSITIONS)
campaign_can_move = CAMPAIGN_LIFECYCLE.can_move
campaign_sources_of = CAMPAIGN_LIFECYCLE.sources_of
check_campaign_move = CAMPAIGN_LIFECYCLE.check_move
