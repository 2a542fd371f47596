"""The delivery-rate chart, drawn on the server as SVG (no script, no external library)."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from notifier.messages.dashboard import CHANNELS, DayCounts

WIDTH, HEIGHT, PAD = 560, 200, 32
# Colours with at least 3:1 contrast on white (WCAG 1.4.11), told apart by dash pattern as well.
STYLE = {"sms": ("#1d4ed8", ""), "email": ("#b45309", "6 4")}
LABELS = {"sms": "SMS", "email": "Email"}


def rate_chart(days: Sequence[DayCounts], title: str = "Delivery rate") -> Markup:
    """An SVG line per channel: the share of attempted messages the provider took, per day."""
    step = (WIDTH - 2 * PAD) / max(len(days) - 1, 1)

    def y(rate: float) -> float:
        return HEIGHT - PAD - rate * (HEIGHT - 2 * PAD)

    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="chart-title">',
        f'<title id="chart-title">{escape(title)}</title>',
    ]
    for rate in (0.0, 0.5, 1.0):
        parts.append(
            f'<line x1="{PAD}" x2="{WIDTH - PAD}" y1="{y(rate):.1f}" y2="{y(rate):.1f}" '
            'stroke="#6b7280" stroke-width="0.5"/>'
            f'<text x="2" y="{y(rate) + 4:.1f}" font-size="11" fill="#374151">{int(rate * 100)}%</text>'
        )
    for index, day in enumerate(days):
        if index % 2 == len(days) % 2 or index == len(days) - 1:
            parts.append(
                f'<text x="{PAD + index * step:.1f}" y="{HEIGHT - 8}" font-size="11" text-anchor="middle" '
                f'fill="#374151">{day.day.strftime("%m/%d")}</text>'
            )
    for offset, channel in enumerate(CHANNELS):
        colour, dash = STYLE[channel]
        daily = [(index, day.rate(channel)) for index, day in enumerate(days)]
        points = [(PAD + index * step, y(share)) for index, share in daily if share is not None]
        if points:
            path = " ".join(f"{x:.1f},{yy:.1f}" for x, yy in points)
            parts.append(
                f'<polyline fill="none" stroke="{colour}" stroke-width="2" '
                f'stroke-dasharray="{dash}" points="{path}"/>'
            )
        legend_x = WIDTH - PAD - 150 + offset * 80
        parts.append(
            f'<line x1="{legend_x}" x2="{legend_x + 20}" y1="12" y2="12" stroke="{colour}" stroke-width="2" '
            f'stroke-dasharray="{dash}"/><text x="{legend_x + 24}" y="16" font-size="11" fill="#111827">'
            f"{LABELS[channel]}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704  (every value above is a number or escaped)
