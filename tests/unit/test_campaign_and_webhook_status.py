import pytest

from notifier.domain.campaign_status import (
    CAMPAIGN_TRANSITIONS,
    CampaignStatus,
    campaign_can_move,
    campaign_sources_of,
    check_campaign_move,
)
from notifier.domain.webhook_status import (
    WEBHOOK_DELIVERY_TRANSITIONS,
    WebhookDeliveryStatus,
    check_delivery_move,
    delivery_can_move,
    delivery_sources_of,
)
from notifier.errors import InvalidTransition


def test_every_campaign_status_has_a_row_in_the_transition_table() -> None:
    assert set(CAMPAIGN_TRANSITIONS) == set(CampaignStatus)


def test_campaign_status_values_are_the_api_strings() -> None:
    assert [s.value for s in CampaignStatus] == ["draft", "scheduled", "running", "finished", "cancelled"]


def test_finished_and_cancelled_campaigns_allow_no_further_move() -> None:
    for status in (CampaignStatus.FINISHED, CampaignStatus.CANCELLED):
        assert status.is_final
        assert all(not campaign_can_move(status, other) for other in CampaignStatus)
    assert not any(
        s.is_final for s in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED, CampaignStatus.RUNNING)
    )


def test_a_campaign_never_goes_back_to_draft() -> None:
    assert campaign_sources_of(CampaignStatus.DRAFT) == ()
    with pytest.raises(InvalidTransition):
        check_campaign_move(CampaignStatus.RUNNING, CampaignStatus.DRAFT)


def test_only_a_draft_can_be_scheduled_and_only_a_running_campaign_can_finish() -> None:
    assert campaign_sources_of(CampaignStatus.SCHEDULED) == (CampaignStatus.DRAFT,)
    assert campaign_sources_of(CampaignStatus.RUNNING) == (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED)
    assert campaign_sources_of(CampaignStatus.FINISHED) == (CampaignStatus.RUNNING,)


def test_a_campaign_can_be_cancelled_until_it_ends() -> None:
    assert set(campaign_sources_of(CampaignStatus.CANCELLED)) == {
        CampaignStatus.DRAFT,
        CampaignStatus.SCHEDULED,
        CampaignStatus.RUNNING,
    }
    check_campaign_move(CampaignStatus.SCHEDULED, CampaignStatus.CANCELLED)
    with pytest.raises(InvalidTransition):
        check_campaign_move(CampaignStatus.FINISHED, CampaignStatus.CANCELLED)


def test_every_webhook_delivery_status_has_a_row_in_the_transition_table() -> None:
    assert set(WEBHOOK_DELIVERY_TRANSITIONS) == set(WebhookDeliveryStatus)


def test_only_a_pending_delivery_can_be_claimed() -> None:
    assert delivery_sources_of(WebhookDeliveryStatus.DELIVERING) == (WebhookDeliveryStatus.PENDING,)


def test_a_delivery_outcome_is_recorded_only_on_a_claimed_delivery() -> None:
    for outcome in (WebhookDeliveryStatus.DELIVERED, WebhookDeliveryStatus.FAILED):
        assert delivery_sources_of(outcome) == (WebhookDeliveryStatus.DELIVERING,)
    assert delivery_sources_of(WebhookDeliveryStatus.PENDING) == (WebhookDeliveryStatus.DELIVERING,)


def test_delivered_and_failed_deliveries_allow_no_further_move() -> None:
    for status in (WebhookDeliveryStatus.DELIVERED, WebhookDeliveryStatus.FAILED):
        assert status.is_final
        assert all(not delivery_can_move(status, other) for other in WebhookDeliveryStatus)
    with pytest.raises(InvalidTransition):
        check_delivery_move(WebhookDeliveryStatus.DELIVERED, WebhookDeliveryStatus.PENDING)
