"""SMS through an ordered list of providers, each message through one provider only.

Each centre has an order of providers (``domain.routes``); the circuit breaker
(``channels.breaker``) takes a provider that keeps failing out of rotation for every worker.
A message goes to the first provider in rotation. It moves on to the next one only when the
first *certainly did not take it*: a retryable error, which by this project's convention means
the request was refused or never reached the provider (connection refused, HTTP 429/5xx
answered before registration). An unknown outcome (a timeout after the request went out) or
a permanent refusal ends the attempt: recovery asks the provider the message was attempted
with, never another one.

Before a message is handed to a provider other than the one recorded on it, ``switch`` records
the new one (``messages.routing``), so recovery always knows whom to ask.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from typing import Protocol

from notifier.channels.base import Accepted, SmsRequest, SmsSender
from notifier.domain.breaker import Circuit
from notifier.domain.routes import SmsRoutes
from notifier.errors import UNKNOWN_OUTCOME, ProviderError

log = logging.getLogger("notifier.provider")

NO_PROVIDER = "no_provider"
CLAIM_LOST = "claim_lost"
# A provider that says "too fast" is healthy: the shared throttle slows down, no failover.
RATE_LIMITED_CODES = frozenset({"20429", "14107", "http_429", "TooManyRequests", "RateLimitExceeded"})
# Records the provider a message is about to be handed to; False when the claim was lost.
Switch = Callable[[str], bool]
# Why a provider may not take a message at all (its sender number not registered with it).
Refuse = Callable[[str], ProviderError | None]


class Breaker(Protocol):
    def state(self, provider: str) -> Circuit: ...

    def available(self, provider: str) -> bool: ...

    def succeeded(self, provider: str, calls: int = 1) -> None: ...

    def failed(self, provider: str) -> bool: ...


class NoBreaker:
    """Every provider always in rotation (no Redis: one process, nothing to share)."""

    def state(self, provider: str) -> Circuit:
        return Circuit.CLOSED

    def available(self, provider: str) -> bool:
        return True

    def succeeded(self, provider: str, calls: int = 1) -> None:
        return None

    def failed(self, provider: str) -> bool:
        return False


class BatchSender(Protocol):
    name: str

    def send_many(self, requests: Sequence[SmsRequest]) -> list[Accepted | ProviderError]: ...


def is_rate_limited(error: ProviderError) -> bool:
    return error.code in RATE_LIMITED_CODES or error.status_code == 429


class FailoverSender:
    """The ``ctx.sms`` of every process: the configured SMS providers behind one sender."""

    def __init__(self, providers: Mapping[str, SmsSender], routes: SmsRoutes, breaker: Breaker) -> None:
        if not providers:
            raise ValueError("at least one SMS provider (the outbox counts)")
        self.providers = dict(providers)
        self.routes = routes
        self.breaker = breaker
        # The provider most messages go through; rate-limit buckets fall back to it.
        self.name = self.order(None)[0]

    def order(self, center_code: str | None) -> list[str]:
        """The providers configured for a centre's SMS, best first."""
        return self.routes.order(center_code, self.providers) or [next(iter(self.providers))]

    def first(self, center_code: str | None) -> str:
        """The provider a centre's next SMS will most likely go through (read only, no probe)."""
        order = self.order(center_code)
        return next((name for name in order if self.breaker.state(name) is Circuit.CLOSED), order[0])

    def batch_sender(self, name: str) -> BatchSender | None:
        """The provider as a sender of many messages per call, if it is one."""
        sender = self.providers.get(name)
        return sender if sender is not None and hasattr(sender, "send_many") else None  # type: ignore[return-value]

    def send(
        self,
        request: SmsRequest,
        center_code: str | None = None,
        *,
        recorded: str | None = None,
        switch: Switch | None = None,
        skip: Collection[str] = (),
        refuse: Refuse | None = None,
    ) -> Accepted:
        """Send through the first provider in rotation that takes it; see the module docstring."""
        last: ProviderError | None = None
        refused: ProviderError | None = None
        for position, name in enumerate(self.order(center_code)):
            if name in skip:
                continue
            refusal = refuse(name) if refuse is not None else None
            if refusal is not None and position == 0:
                raise refusal  # the centre's own first provider refuses it: the message fails
            if refusal is not None:  # a later provider the number is not registered with: passed over
                refused = refused or refusal
                continue
            if not self.breaker.available(name):
                continue
            if name != recorded:
                if switch is not None and not switch(name):
                    raise ProviderError(True, CLAIM_LOST, "the claim was taken over before sending", name)
                recorded = name
            try:
                accepted = self.providers[name].send(request)
            except ProviderError as error:
                if is_rate_limited(error):
                    raise
                if not error.retryable:
                    self._answered(name, error)
                    raise
                self.breaker.failed(name)
                log.warning(
                    "provider refused; trying the next one",
                    extra={"provider": name, "code": error.code, "message_id": request.message_id},
                )
                last = error
                continue
            self.breaker.succeeded(name)
            return accepted
        if last is not None:
            raise last
        if refused is not None:
            raise refused
        raise ProviderError(
            True, NO_PROVIDER, "every SMS provider for this centre is out of rotation", self.name
        )

    def _answered(self, name: str, error: ProviderError) -> None:
        """A permanent refusal is an answer (the provider works); an unknown outcome is not."""
        if error.code == UNKNOWN_OUTCOME:
            self.breaker.failed(name)
        else:
            self.breaker.succeeded(name)

    def find_sent(self, request: SmsRequest, since: datetime, provider: str | None = None) -> str | None:
        """Ask the provider the message was attempted with (every provider if none is recorded)."""
        found = self.find_sent_by(request, since, provider)
        return found[1] if found else None

    def find_sent_by(
        self, request: SmsRequest, since: datetime, provider: str | None = None
    ) -> tuple[str, str] | None:
        """Return (provider, provider's id) of a message already accepted, if any."""
        names = [provider] if provider in self.providers else self.order(None)
        for name in names:
            assert name is not None
            found = self.providers[name].find_sent(request, since)
            if found:
                return name, found
        return None
