"""The outcome, report and retention tests again on the embedded SQLite database (its own date
functions for weekday and hour, its partial index, DELETE with a limited subquery), through the
same HTTP API."""

from __future__ import annotations

import pytest

from notifier import bootstrap
from tests.integration.test_appointment_retention import (  # noqa: F401
    test_a_change_after_the_blanking_gives_the_contacts_again_until_the_new_time_is_old_too,
    test_a_pass_is_bounded_and_the_next_one_takes_the_rest,
    test_contacts_are_blanked_after_the_retention_and_the_appointment_and_its_outcome_stay,
)
from tests.integration.test_attendance_api import (  # noqa: F401  (fixtures and tests run here too)
    admin,
    test_an_outcome_belongs_to_the_revision_it_was_recorded_for,
    test_only_a_later_outcome_replaces_the_stored_one,
    test_the_report_as_csv_has_the_same_columns_and_hides_the_same_cells,
    test_the_report_counts_each_group_and_hides_small_ones,
    test_the_report_filters_by_kind_and_time,
    test_the_report_groups_by_time_on_the_seoul_clock_and_by_lead_time,
    test_weekday_and_hour_are_those_of_seoul_across_midnight,
)
from tests.integration.test_experiments_api import (  # noqa: F401
    test_a_moved_appointment_keeps_its_arm_and_plan,
    test_the_report_compares_each_arm_with_the_first,
)
from tests.integration.test_webhook_retention import (  # noqa: F401
    test_finished_deliveries_are_deleted_after_the_retention_and_pending_ones_stay,
)


@pytest.fixture
def ctx(sqlite_ctx: bootstrap.Context) -> bootstrap.Context:
    return sqlite_ctx
