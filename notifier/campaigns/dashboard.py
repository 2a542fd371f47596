"""Running and scheduled campaigns for the console's home page (an index range on status)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from notifier.campaigns.tables import campaigns
from notifier.domain.campaign_status import CampaignStatus

ACTIVE = (CampaignStatus.RUNNING.value, CampaignStatus.SCHEDULED.value)
SHOWN = 50


@dataclass(frozen=True)
class ActiveCampaign:
    id: str
    name: str
    status: str
    channel: str
    center_code: str | None
    send_at: datetime | None


def active(conn: Connection, centers: Collection[str] | None) -> list[ActiveCampaign]:
    """Running and scheduled campaigns of ``centers`` (None: every centre), soonest first."""
    query = (
        select(
            campaigns.c.id,
            campaigns.c.name,
            campaigns.c.status,
            campaigns.c.channel,
            campaigns.c.center,
            campaigns.c.send_at,
        )
        .where(campaigns.c.status.in_(ACTIVE))
        .order_by(campaigns.c.status, campaigns.c.send_at)
    )
    found = []
    for row in conn.execute(query):
        code = (row.center or {}).get("code")
        if centers is None or code in centers:
            found.append(ActiveCampaign(row.id, row.name, row.status, row.channel, code, row.send_at))
        if len(found) == SHOWN:
            break
    return found
