"""Every string a request model lets in fits the column it is stored in, derived values too."""

from __future__ import annotations

import annotated_types
import pytest
from pydantic import BaseModel
from sqlalchemy import Column, String

from notifier.api.recipients import RecipientPut
from notifier.appointments.notices import MAX_EXTERNAL_ID, REFERENCE_PREFIX
from notifier.appointments.tables import appointments
from notifier.campaigns.service import CampaignFilterIn, CampaignIn, CampaignRecipientIn
from notifier.campaigns.tables import campaign_recipients, campaigns
from notifier.consent.tables import recipients
from notifier.keys.tables import api_keys
from notifier.messages.tables import messages
from notifier.schemas import AppointmentIn, AppointmentQuery, MessageIn, RecipientIn, WebhookIn
from notifier.templates.tables import template_versions
from notifier.webhooks.tables import webhooks

# (request model, field) -> the column the value is stored in as given.
STORED_IN: list[tuple[type[BaseModel], str, Column[str]]] = [
    (MessageIn, "template", messages.c.template_key),
    (MessageIn, "reference", messages.c.reference),
    (RecipientIn, "name", messages.c.to_name),
    (AppointmentIn, "center", appointments.c.center_code),
    (AppointmentIn, "counselor", appointments.c.counselor),
    (AppointmentIn, "location", appointments.c.location),
    (AppointmentQuery, "center", appointments.c.center_code),
    (CampaignIn, "name", campaigns.c.name),
    (CampaignIn, "template", campaigns.c.template_key),
    (CampaignRecipientIn, "name", campaign_recipients.c.name),
    (CampaignRecipientIn, "name", messages.c.to_name),
    (CampaignFilterIn, "center", recipients.c.center),
    (RecipientPut, "name", recipients.c.name),
    (RecipientPut, "center", recipients.c.center),
    (WebhookIn, "url", webhooks.c.url),
]


def max_length(model: type[BaseModel], field: str) -> int:
    lengths = [
        m.max_length for m in model.model_fields[field].metadata if isinstance(m, annotated_types.MaxLen)
    ]
    assert lengths, f"{model.__name__}.{field} has no max_length"
    return min(lengths)


def column_length(column: Column[str]) -> int:
    assert isinstance(column.type, String) and column.type.length is not None, column
    return column.type.length


@pytest.mark.parametrize(
    ("model", "field", "column"), STORED_IN, ids=[f"{m.__name__}.{f}->{c}" for m, f, c in STORED_IN]
)
def test_a_request_field_is_no_longer_than_its_column(model, field, column) -> None:
    assert max_length(model, field) <= column_length(column)


def test_an_appointment_id_fits_its_column_and_its_messages_reference() -> None:
    assert column_length(appointments.c.external_id) >= MAX_EXTERNAL_ID
    assert len(REFERENCE_PREFIX) + MAX_EXTERNAL_ID == column_length(messages.c.reference)


def test_a_template_version_can_name_any_key_that_saves_it() -> None:
    assert column_length(api_keys.c.name) <= column_length(template_versions.c.saved_by)
    assert column_length(api_keys.c.owner) <= column_length(template_versions.c.created_by)
