"""Erasure and the recipients API again on the embedded SQLite database ``notifier dev`` uses
(SQLite 3.40 has no ``concat()``), through the same HTTP API; and the ended campaign lists'
retention, which blanks the list rows the same way."""

from __future__ import annotations

import pytest

from notifier import bootstrap
from tests.integration.test_erasure import (  # noqa: F401  (fixtures and tests run here too)
    admin,
    test_an_erased_person_is_in_no_table_but_stays_opted_out,
)
from tests.integration.test_recipients_api import (  # noqa: F401
    campaigns,
    test_an_external_id_must_be_a_plain_identifier,
    test_consent_checks_see_only_the_owners_live_recipients,
    test_consent_older_than_two_years_counts_only_if_reconfirmed,
    test_delete_erases_personal_data_and_repeats_as_204,
    test_erasure_reaches_the_owners_messages_and_cancels_what_was_not_sent,
    test_every_bad_field_is_reported_at_once,
    test_invalid_fields_are_named_by_json_pointer_and_change_nothing,
    test_malformed_json_and_wrong_content_type,
    test_missing_unknown_and_underscoped_keys,
    test_put_after_erasure_creates_the_recipient_anew,
    test_put_creates_then_replaces_and_get_shows_the_normalised_recipient,
    test_recipients_of_one_client_are_invisible_to_another,
    test_responses_match_the_documented_schema,
)
from tests.integration.test_retention import (  # noqa: F401
    test_an_ended_campaigns_list_loses_its_people_after_the_retention_and_keeps_its_counts,
)


@pytest.fixture
def ctx(sqlite_ctx: bootstrap.Context) -> bootstrap.Context:
    return sqlite_ctx
