import pytest

from notifier.domain.message_status import (
    PENDING,
    TRANSITIONS,
    TWILIO_STATUS,
    Status,
    can_move,
    check_move,
    sources_of,
)
from notifier.errors import InvalidTransition


def test_final_statuses_allow_no_further_move() -> None:
    for status in (Status.DELIVERED, Status.FAILED, Status.SUPPRESSED, Status.CANCELLED, Status.EXPIRED):
        assert status.is_final
        assert all(not can_move(status, other) for other in Status)


def test_late_sent_callback_after_delivered_is_not_allowed() -> None:
    assert can_move(Status.SENT, Status.DELIVERED)
    assert not can_move(Status.DELIVERED, Status.SENT)
    with pytest.raises(InvalidTransition):
        check_move(Status.DELIVERED, Status.SENT)


def test_only_a_queued_message_can_be_claimed_for_sending() -> None:
    assert sources_of(Status.SENDING) == (Status.QUEUED,)


def test_sent_messages_can_no_longer_be_cancelled_or_suppressed() -> None:
    for status in (Status.SENDING, Status.SENT):
        assert not can_move(status, Status.CANCELLED)
    assert not can_move(Status.SENT, Status.SUPPRESSED)
    assert set(PENDING) == {s for s in Status if s.is_pending}


def test_a_claimed_message_not_yet_handed_over_can_still_be_suppressed() -> None:
    # The send loop's last look before the provider call; opt-outs touch only pending messages.
    assert can_move(Status.SENDING, Status.SUPPRESSED)
    assert not Status.SENDING.is_pending


def test_every_status_has_a_row_in_the_transition_table() -> None:
    assert set(TRANSITIONS) == set(Status)


def test_twilio_statuses_map_onto_ours() -> None:
    assert TWILIO_STATUS["undelivered"] is Status.FAILED
    assert "queued" not in TWILIO_STATUS  # Twilio's own queue says nothing new to us
