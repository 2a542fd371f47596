"""Every table of every feature, on the one shared ``metadata``.

Migrations and the tests that truncate every table import this module; feature code imports
its own ``tables`` module instead.
"""

from __future__ import annotations

from notifier.appointments import tables as appointment_tables
from notifier.attendance import tables as attendance_tables
from notifier.campaigns import tables as campaign_tables
from notifier.centers import tables as center_tables
from notifier.channels import outbox
from notifier.consent import tables as consent_tables
from notifier.keys import tables as key_tables
from notifier.messages import tables as message_tables
from notifier.staff import tables as staff_tables
from notifier.storage.metadata import metadata
from notifier.templates import tables as template_tables
from notifier.webhooks import tables as webhook_tables

FEATURE_TABLES = (
    appointment_tables,
    attendance_tables,
    campaign_tables,
    center_tables,
    consent_tables,
    key_tables,
    message_tables,
    outbox,
    staff_tables,
    template_tables,
    webhook_tables,
)

__all__ = ["FEATURE_TABLES", "metadata"]
