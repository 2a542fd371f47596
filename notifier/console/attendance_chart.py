"""The no-show chart of the attendance report, drawn on the server as SVG.

One row per group: a bar for the no-show rate and a line with end ticks for its 95 % interval.
A group of fewer than five appointments gets no bar, only the words saying why (the same rule
as the table). The SVG has a title and a description; the table under it is its text
alternative. No script and no external library.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, LABEL_WIDTH, ROW, TOP, RIGHT = 640, 200, 28, 28, 56
BAR = "#1d4ed8"  # 3:1 or more against white (WCAG 1.4.11)
INTERVAL = "#111827"
GRID = "#6b7280"
TEXT = "#111827"


@dataclass(frozen=True)
class ChartRow:
    label: str
    rate: float | None
    low: float | None
    high: float | None


def no_show_chart(rows: Sequence[ChartRow], title: str, description: str, hidden: str) -> Markup:
    """Horizontal bars of the no-show rate per group, with interval lines."""
    top = max([r.high for r in rows if r.high is not None] or [0.0])
    scale_max = min(1.0, max(0.1, _round_up(top)))
    plot = WIDTH - LABEL_WIDTH - RIGHT
    height = TOP + ROW * max(len(rows), 1) + 24

    def x(rate: float) -> float:
        return LABEL_WIDTH + plot * rate / scale_max

    parts = [
        f'<svg class="chart" id="no-show-chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        'aria-labelledby="no-show-chart-title no-show-chart-desc">',
        f'<title id="no-show-chart-title">{escape(title)}</title>',
        f'<desc id="no-show-chart-desc">{escape(description)}</desc>',
    ]
    for step in range(5):
        tick = scale_max * step / 4
        parts.append(
            f'<line x1="{x(tick):.1f}" x2="{x(tick):.1f}" y1="{TOP - 6}" y2="{height - 20}" '
            f'stroke="{GRID}" stroke-width="0.5"/>'
            f'<text x="{x(tick):.1f}" y="{TOP - 10}" font-size="11" text-anchor="middle" fill="{TEXT}">'
            f"{tick * 100:.0f}%</text>"
        )
    for index, row in enumerate(rows):
        middle = TOP + index * ROW + ROW / 2
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{middle + 4:.1f}" font-size="12" text-anchor="end" '
            f'fill="{TEXT}">{escape(row.label[:32])}</text>'
        )
        if row.rate is None:
            parts.append(
                f'<text class="hidden-cell" x="{LABEL_WIDTH + 4}" y="{middle + 4:.1f}" font-size="12" '
                f'fill="{TEXT}">{escape(hidden)}</text>'
            )
            continue
        parts.append(
            f'<rect class="rate" x="{LABEL_WIDTH}" y="{middle - 8:.1f}" '
            f'width="{x(row.rate) - LABEL_WIDTH:.1f}" height="16" fill="{BAR}"/>'
        )
        if row.low is not None and row.high is not None:
            low, high = x(row.low), x(min(row.high, scale_max))
            parts.append(
                f'<g class="interval" stroke="{INTERVAL}" stroke-width="2">'
                f'<line x1="{low:.1f}" x2="{high:.1f}" y1="{middle:.1f}" y2="{middle:.1f}"/>'
                f'<line x1="{low:.1f}" x2="{low:.1f}" y1="{middle - 6:.1f}" y2="{middle + 6:.1f}"/>'
                f'<line x1="{high:.1f}" x2="{high:.1f}" y1="{middle - 6:.1f}" y2="{middle + 6:.1f}"/></g>'
            )
        parts.append(
            f'<text x="{max(x(row.high or row.rate), x(row.rate)) + 6:.1f}" y="{middle + 4:.1f}" '
            f'font-size="11" fill="{TEXT}">{row.rate * 100:.1f}%</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704  (every value above is a number or escaped)


def _round_up(value: float) -> float:
    """The next tenth at or above ``value`` (the axis ends there)."""
    tenths = int(value * 10 + 0.999999)
    return tenths / 10
