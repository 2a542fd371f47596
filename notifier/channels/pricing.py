"""What SMS cost through the configured providers, from the price table (``domain.prices``).

Previews and campaign reports price a message through the provider that will most likely
take it (the first of the centre's order) and show the others of the order for comparison;
what a campaign has spent counts only messages a provider accepted, at the price of the
provider that accepted each.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from notifier.context import Context


@dataclass(frozen=True)
class ProviderPrice:
    provider: str
    krw: float | None  # None: the price table has no price for this kind through this provider


def sms_prices(ctx: Context, kind: str | None, center_code: str | None = None) -> list[ProviderPrice]:
    """The price of one message of ``kind`` (SMS, LMS) through each provider of the order, first first."""
    prices = ctx.settings.prices
    return [ProviderPrice(name, prices.price(name, kind)) for name in ctx.sms.order(center_code)]


def expected_krw(
    ctx: Context, center_code: str | None, counts: Mapping[str, int]
) -> tuple[str, float | None]:
    """The provider that will most likely send ``counts`` (kind -> messages), and what they cost there."""
    provider = ctx.sms.order(center_code)[0]
    return provider, ctx.settings.prices.estimate(provider, counts)


def spent_krw(ctx: Context, accepted: Mapping[tuple[str | None, str | None], int]) -> float:
    """KRW for messages accepted, counted per (provider, kind); a kind without a price costs 0."""
    total = 0.0
    for (provider, kind), count in accepted.items():
        total += (ctx.settings.prices.price(provider, kind) or 0.0) * count
    return round(total, 2)
