"""What a message costs, in KRW, by provider and message class.

The table is configuration (``NOTIFIER_PRICES``): providers' prices differ by contract and
change, so the defaults below are examples of the order of magnitude, not quotes. A price is
per message as the provider bills it: an SMS (up to 90 cp949 bytes), an LMS (up to 2,000), an
AlimTalk. Twilio bills GSM/UCS-2 segments, not Korean classes; its LMS price here stands for a
typical three-segment long message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

KINDS = ("SMS", "LMS", "ALIMTALK")
# Examples only (2026 list prices, rounded): set NOTIFIER_PRICES to your contract's.
DEFAULT_PRICES: dict[str, dict[str, float]] = {
    "solapi": {"SMS": 20.0, "LMS": 50.0, "ALIMTALK": 13.0},
    "twilio": {"SMS": 80.0, "LMS": 240.0},
    "sandbox": {"SMS": 0.0, "LMS": 0.0, "ALIMTALK": 0.0},  # the outbox: nothing leaves
}


@dataclass(frozen=True)
class PriceTable:
    prices: Mapping[str, Mapping[str, float]] = field(default_factory=lambda: DEFAULT_PRICES)

    def price(self, provider: str | None, kind: str | None) -> float | None:
        """KRW for one message of ``kind`` through ``provider``; None when the table has no price."""
        if provider is None or kind is None:
            return None
        return self.prices.get(provider, {}).get(kind.upper())

    def estimate(self, provider: str | None, counts: Mapping[str, int]) -> float | None:
        """KRW for ``counts`` (kind -> messages) through ``provider``; None if a kind has no price."""
        total = 0.0
        for kind, count in counts.items():
            if not count:
                continue
            price = self.price(provider, kind)
            if price is None:
                return None
            total += price * count
        return round(total, 2)


def parse_prices(spec: str) -> PriceTable:
    """Parse ``solapi.SMS=18,solapi.LMS=45,twilio.SMS=75`` over the defaults; raise ValueError."""
    table = {provider: dict(kinds) for provider, kinds in DEFAULT_PRICES.items()}
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        key, equals, raw = part.partition("=")
        provider, dot, kind = key.strip().partition(".")
        kind = kind.strip().upper()
        if not equals or not dot or not provider or kind not in KINDS:
            raise ValueError(f"expected provider.KIND=KRW with KIND among {', '.join(KINDS)}, got {part!r}")
        try:
            price = float(raw)
        except ValueError as exc:
            raise ValueError(f"a price must be a number of KRW, got {raw!r}") from exc
        if not 0 <= price <= 100_000:
            raise ValueError(f"a price must be between 0 and 100000 KRW, got {raw!r}")
        table.setdefault(provider.strip().lower(), {})[kind] = price
    return PriceTable(table)
