"""The home page: a centre's last 14 days per channel, the delivery rate as a chart, reminders
due in the next 24 hours, running and scheduled campaigns, failures grouped by reason."""

from __future__ import annotations

from flask import Blueprint, Response

from notifier.api.context import context
from notifier.campaigns import dashboard as campaign_dashboard
from notifier.console.charts import rate_chart
from notifier.console.i18n import word
from notifier.console.pages import page
from notifier.console.session import current_staff, login_required
from notifier.messages import dashboard, day_counts
from notifier.staff.scope import visible_centers

bp = Blueprint("home", __name__)


@bp.get("/")
@login_required
def index() -> Response:
    ctx = context()
    centers = visible_centers(current_staff())
    now = ctx.clock()
    zone = ctx.settings.timezone
    days = day_counts.daily_counts(ctx.engine, centers, now, zone)  # closed days stored
    with ctx.engine.connect() as conn:
        due_total, due = dashboard.reminders_due(conn, centers, now)
        failures = dashboard.failures_by_reason(conn, centers, now)
        active = campaign_dashboard.active(conn, centers)
    totals = {
        channel: {
            key: sum(day.by_channel[channel][key] for day in days) for key in days[0].by_channel[channel]
        }
        for channel in dashboard.CHANNELS
    }
    return page(
        "console/home.html",
        today=days[-1],
        days=days,
        totals=totals,
        chart=rate_chart(days, word("delivery_rate")),
        due_total=due_total,
        due=due,
        failures=failures,
        campaigns=active,
        channels=dashboard.CHANNELS,
    )
