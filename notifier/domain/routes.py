"""Which SMS providers a centre's messages go through, in order of preference.

``NOTIFIER_SMS_PROVIDERS`` lists the default order (``solapi,twilio``) and, after a ``;``,
orders for single centres by their code (``seosan=twilio,solapi``). Providers that are not
configured are left out; the first provider in rotation takes the message.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

KNOWN_PROVIDERS = ("solapi", "twilio")
# SOLAPI first: it sends from the centre's registered number; Twilio's messages reach Korean
# handsets marked [국제발신].
DEFAULT_ORDER = ("solapi", "twilio")


@dataclass(frozen=True)
class SmsRoutes:
    default: tuple[str, ...] = DEFAULT_ORDER
    by_center: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def order(self, center_code: str | None, configured: Collection[str]) -> list[str]:
        """The providers to try for a centre's SMS, best first, among those ``configured``."""
        wanted = self.by_center.get(center_code or "", self.default)
        return [name for name in wanted if name in configured]


def parse_routes(spec: str) -> SmsRoutes:
    """Parse ``solapi,twilio;seosan=twilio,solapi``; raise ValueError on what cannot work."""
    default: tuple[str, ...] = DEFAULT_ORDER
    by_center: dict[str, tuple[str, ...]] = {}
    for part in (p.strip() for p in spec.split(";")):
        if not part:
            continue
        code, equals, names = part.rpartition("=") if "=" in part else ("", "", part)
        order = tuple(name.strip().lower() for name in names.split(",") if name.strip())
        unknown = [name for name in order if name not in KNOWN_PROVIDERS]
        if unknown or not order or len(set(order)) != len(order):
            raise ValueError(f"expected providers among {', '.join(KNOWN_PROVIDERS)}, got {names!r}")
        if equals:
            if not code.strip():
                raise ValueError(f"a centre code is missing before '=' in {part!r}")
            by_center[code.strip()] = order
        else:
            default = order
    return SmsRoutes(default, by_center)
