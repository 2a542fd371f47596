"""Appointment statuses: booked until cancelled, and a cancelled appointment stays cancelled."""

import pytest

from notifier.domain.appointment_status import (
    OPEN,
    TRANSITIONS,
    AppointmentStatus,
    can_move,
    check_move,
    sources_of,
)
from notifier.errors import InvalidTransition


def test_a_booked_appointment_can_be_cancelled() -> None:
    assert can_move(AppointmentStatus.BOOKED, AppointmentStatus.CANCELLED)
    check_move(AppointmentStatus.BOOKED, AppointmentStatus.CANCELLED)


def test_a_cancelled_appointment_is_final_and_never_booked_again() -> None:
    assert AppointmentStatus.CANCELLED.is_final
    assert not AppointmentStatus.CANCELLED.is_open
    for other in AppointmentStatus:
        assert not can_move(AppointmentStatus.CANCELLED, other)
    with pytest.raises(InvalidTransition):
        check_move(AppointmentStatus.CANCELLED, AppointmentStatus.BOOKED)


def test_cancelling_twice_is_not_a_transition() -> None:
    with pytest.raises(InvalidTransition):
        check_move(AppointmentStatus.CANCELLED, AppointmentStatus.CANCELLED)


def test_only_a_booked_appointment_can_be_cancelled_changed_or_answered() -> None:
    assert sources_of(AppointmentStatus.CANCELLED) == (AppointmentStatus.BOOKED,)
    assert OPEN == (AppointmentStatus.BOOKED,)


def test_every_status_has_a_row_in_the_transition_table() -> None:
    assert set(TRANSITIONS) == set(AppointmentStatus)


def test_statuses_are_stored_and_shown_as_these_words() -> None:
    assert [s.value for s in AppointmentStatus] == ["booked", "cancelled"]
    assert AppointmentStatus("booked") == "booked"
