"""One table of allowed status transitions, and the questions every status machine asks of it.

Messages, appointments, campaigns and webhook deliveries each write their table once (in their
``*_status`` module) and wrap it in a ``Lifecycle``; repositories turn ``sources_of`` into the
WHERE clause of a conditional UPDATE, so a status never moves in a way the table forbids.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

from notifier.errors import InvalidTransition

S = TypeVar("S", bound=StrEnum)


@dataclass(frozen=True)
class Lifecycle(Generic[S]):
    """The statuses of one noun (``noun`` names it in errors) and the moves allowed between them."""

    noun: str
    transitions: Mapping[S, frozenset[S]]

    def can_move(self, current: S, new: S) -> bool:
        """Tell whether something in ``current`` may move to ``new``."""
        return new in self.transitions[current]

    def sources_of(self, new: S) -> tuple[S, ...]:
        """List the statuses from which ``new`` may be reached (for conditional updates)."""
        return tuple(status for status, targets in self.transitions.items() if new in targets)

    def check_move(self, current: S, new: S) -> None:
        """Raise ``InvalidTransition`` unless ``current -> new`` is allowed."""
        if not self.can_move(current, new):
            prefix = f"{self.noun} " if self.noun else ""
            raise InvalidTransition(f"{prefix}{current.value} -> {new.value} is not allowed")

    def is_final(self, status: S) -> bool:
        """Tell whether nothing can follow ``status``."""
        return not self.transitions[status]
