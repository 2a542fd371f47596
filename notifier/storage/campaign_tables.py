"""Tables of the campaign feature (same metadata as notifier.storage.tables)."""

from __future__ import annotations

from notifier.storage.tables import metadata  # noqa: F401
