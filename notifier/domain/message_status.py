"""Message statuses and the one table of transitions between them.

A status never moves backwards: a late ``sent`` callback after ``delivered`` is ignored.
The only steps "back" are retries: ``sending -> scheduled`` after a temporary provider error
(the scheduler sends it again when its backoff is over) and ``sending -> queued`` when a
stuck message is recovered; both are recorded in the history like any other change.
"""

from __future__ import annotations

from enum import StrEnum

from notifier.domain.lifecycle import Lifecycle


class Status(StrEnum):
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    SUPPRESSED = "suppressed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"

    @property
    def is_final(self) -> bool:
        return not TRANSITIONS[self]

    @property
    def is_pending(self) -> bool:
        """Not yet handed to a provider, so it can still be cancelled or suppressed."""
        return self in (Status.SCHEDULED, Status.QUEUED)


TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.SCHEDULED: frozenset({Status.QUEUED, Status.CANCELLED, Status.EXPIRED, Status.SUPPRESSED}),
    # QUEUED -> FAILED: a message that used up its attempts (recovered again and again).
    Status.QUEUED: frozenset(
        {Status.SENDING, Status.CANCELLED, Status.EXPIRED, Status.SUPPRESSED, Status.SCHEDULED, Status.FAILED}
    ),
    # A provider callback may arrive before the worker records ``sent``. SENDING -> SUPPRESSED:
    # the last look right before the provider call (an opt-out answered while the message
    # waited for its send slot); only the worker holding the claim makes it, never an opt-out.
    Status.SENDING: frozenset(
        {Status.SENT, Status.DELIVERED, Status.FAILED, Status.QUEUED, Status.SCHEDULED, Status.SUPPRESSED}
    ),
    Status.SENT: frozenset({Status.DELIVERED, Status.FAILED}),
    Status.DELIVERED: frozenset(),
    Status.FAILED: frozenset(),
    Status.SUPPRESSED: frozenset(),
    Status.CANCELLED: frozenset(),
    Status.EXPIRED: frozenset(),
}

LIFECYCLE = Lifecycle("", TRANSITIONS)
can_move = LIFECYCLE.can_move
sources_of = LIFECYCLE.sources_of
check_move = LIFECYCLE.check_move

PENDING = (Status.SCHEDULED, Status.QUEUED)


# Twilio's MessageStatus values, mapped onto ours. Statuses Twilio reports before it
# has handed the message on (accepted, queued, sending) change nothing for us.
TWILIO_STATUS: dict[str, Status] = {
    "sent": Status.SENT,
    "delivered": Status.DELIVERED,
    "undelivered": Status.FAILED,
    "failed": Status.FAILED,
}


# SOLAPI's statusCode values (its delivery reports and message list). 2000 "registered" and
# 3000 "handed to the carrier" change nothing for us; 4000 is received; every other code is
# a failure of that message (e.g. 3010 invalid number, 3104 not a KakaoTalk user).
SOLAPI_DELIVERED = "4000"
SOLAPI_IN_PROGRESS = frozenset({"2000", "3000"})
# What reached the person, by SOLAPI's message type.
DELIVERED_VIA = {"ATA": "kakao", "SMS": "sms", "LMS": "lms"}
