"""The attendance rules without a database: when an outcome may be recorded, what replaces it,
the lead-time bands, small cells and the experiment arms."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from notifier.domain.attendance import (
    ARM_BUCKETS,
    SMALL_CELL,
    AppointmentAt,
    Arm,
    Outcome,
    OutcomeRequest,
    StoredOutcome,
    assign_arm,
    check_outcome,
    lead_time_band,
    shown_count,
)
from notifier.domain.reminders import parse_offsets, plan_name
from notifier.errors import Conflict, ValidationFailed

STARTS = datetime(2026, 12, 3, 5, 0, tzinfo=UTC)  # 14:00 in Seoul
H = timedelta(hours=1)
BOOKED = AppointmentAt(revision=1, starts_at=STARTS, cancelled=False)


def sent(outcome: Outcome, at: datetime, version: int | None = None, revision: int | None = None):
    return OutcomeRequest(outcome, at, version, revision)


def stored(outcome: Outcome, at: datetime, revision: int = 1, version: int | None = None) -> StoredOutcome:
    return StoredOutcome(outcome, revision, at, version, "hash")


def pointers(exc: pytest.ExceptionInfo[ValidationFailed]) -> list[str]:
    return [e.pointer for e in exc.value.errors]


@pytest.mark.parametrize("outcome", [Outcome.ATTENDED, Outcome.NO_SHOW])
def test_attendance_cannot_be_recorded_before_the_appointment_starts(outcome) -> None:
    with pytest.raises(ValidationFailed) as exc:
        check_outcome(BOOKED, None, sent(outcome, STARTS - H), STARTS - H)
    assert pointers(exc) == ["/outcome"]


@pytest.mark.parametrize("outcome", [Outcome.ATTENDED, Outcome.NO_SHOW])
def test_attendance_is_recorded_from_the_start_on(outcome) -> None:
    check_outcome(BOOKED, None, sent(outcome, STARTS), STARTS)
    check_outcome(BOOKED, None, sent(outcome, STARTS + H), STARTS + 2 * H)


@pytest.mark.parametrize("outcome", [Outcome.LATE_CANCELLATION, Outcome.RESCHEDULED_BY_PERSON])
def test_a_cancellation_is_recorded_before_the_start_too(outcome) -> None:
    check_outcome(BOOKED, None, sent(outcome, STARTS - 3 * H), STARTS - 2 * H)


def test_an_outcome_recorded_in_the_future_is_refused() -> None:
    with pytest.raises(ValidationFailed) as exc:
        check_outcome(BOOKED, None, sent(Outcome.LATE_CANCELLATION, STARTS), STARTS - H)
    assert pointers(exc) == ["/recorded_at"]


def test_attendance_dated_before_the_start_is_refused_even_when_sent_later() -> None:
    with pytest.raises(ValidationFailed) as exc:
        check_outcome(BOOKED, None, sent(Outcome.NO_SHOW, STARTS - H), STARTS + H)
    assert pointers(exc) == ["/recorded_at"]


def test_a_cancelled_appointment_takes_only_a_cancellation() -> None:
    cancelled = AppointmentAt(revision=2, starts_at=STARTS, cancelled=True)
    with pytest.raises(ValidationFailed):
        check_outcome(cancelled, None, sent(Outcome.NO_SHOW, STARTS + H), STARTS + H)
    check_outcome(cancelled, None, sent(Outcome.LATE_CANCELLATION, STARTS + H), STARTS + H)


def test_an_outcome_for_another_revision_is_a_conflict() -> None:
    with pytest.raises(Conflict):
        check_outcome(BOOKED, None, sent(Outcome.NO_SHOW, STARTS, revision=2), STARTS + H)


def test_only_a_later_outcome_replaces_the_one_of_the_same_revision() -> None:
    first = stored(Outcome.NO_SHOW, STARTS + H)
    for at in (STARTS + H, STARTS + H / 2):
        with pytest.raises(Conflict):
            check_outcome(BOOKED, first, sent(Outcome.ATTENDED, at), STARTS + 2 * H)
    check_outcome(BOOKED, first, sent(Outcome.ATTENDED, STARTS + 2 * H), STARTS + 2 * H)


def test_versioned_outcomes_follow_the_version_not_the_time() -> None:
    first = stored(Outcome.NO_SHOW, STARTS + H, version=3)
    for version in (None, 2, 3):
        with pytest.raises(Conflict):
            check_outcome(BOOKED, first, sent(Outcome.ATTENDED, STARTS + 2 * H, version), STARTS + 2 * H)
    # A newer version wins even if it says it was recorded earlier.
    check_outcome(BOOKED, first, sent(Outcome.ATTENDED, STARTS, 4), STARTS + 2 * H)


def test_an_outcome_of_an_older_revision_is_replaced_by_one_of_the_current_revision() -> None:
    moved = AppointmentAt(revision=2, starts_at=STARTS + 24 * H, cancelled=False)
    old = stored(Outcome.RESCHEDULED_BY_PERSON, STARTS - H, revision=1)
    check_outcome(moved, old, sent(Outcome.ATTENDED, STARTS + 25 * H), STARTS + 25 * H)


@pytest.mark.parametrize(
    ("days", "band"),
    [(-1, "0-1d"), (0, "0-1d"), (1, "0-1d"), (2, "2-7d"), (7, "2-7d"), (8, "8-14d"), (14, "8-14d"),
     (15, "15-30d"), (30, "15-30d"), (31, "31d+"), (400, "31d+")],
)  # fmt: skip
def test_lead_time_falls_in_its_documented_band(days, band) -> None:
    assert lead_time_band(days) == band


def test_a_cell_of_fewer_than_five_appointments_hides_its_counts() -> None:
    assert shown_count(3, 4) == SMALL_CELL
    assert shown_count(0, 4) == SMALL_CELL
    assert shown_count(3, 5) == 3
    assert shown_count(0, 5) == 0


def test_an_appointment_always_falls_in_the_same_arm() -> None:
    arms = [Arm("24h,2h", 0.5), Arm("48h,3h", 0.5)]
    first = [assign_arm(f"a-{i}", "exp-1", arms) for i in range(200)]
    assert [assign_arm(f"a-{i}", "exp-1", arms) for i in range(200)] == first
    # Another experiment splits the same appointments differently.
    assert [assign_arm(f"a-{i}", "exp-2", arms) for i in range(200)] != first


def test_arms_receive_their_shares() -> None:
    arms = [Arm("24h,2h", 0.2), Arm("48h,3h", 0.3), Arm("24h", 0.5)]
    counts = Counter(assign_arm(f"appointment-{i}", "exp", arms) for i in range(20_000))
    assert abs(counts["24h,2h"] / 20_000 - 0.2) < 0.015
    assert abs(counts["48h,3h"] / 20_000 - 0.3) < 0.015
    assert abs(counts["24h"] / 20_000 - 0.5) < 0.015
    assert ARM_BUCKETS >= 10_000


def test_a_plan_is_named_the_way_it_is_written() -> None:
    assert plan_name(parse_offsets("2h, 24h")) == "24h,2h"
    assert plan_name(parse_offsets("180m,2d")) == "48h,3h"
