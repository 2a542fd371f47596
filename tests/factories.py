"""Small factories for test data."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

# "Now" in the appointment tests: 2026-12-01 10:00 in Seoul, two days before ``booking()``'s start.
APPOINTMENTS_NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
CENTER = {"name": "서산고용복지+센터", "phone": "041-661-5676", "sms_sender": "041-661-5676"}


def appointment_data(**changes: Any) -> dict[str, Any]:
    appointment = {
        "kind": "in_depth_counseling",
        "kind_label": "1:1 심층상담",
        "when": "12월 3일(수) 오후 2시",
        "duration": "50분",
        "location": "서산고용복지+센터 2층 상담실",
        "counselor": "김상담",
        "link": "",
    }
    appointment.update(changes)
    return {"appointment": appointment}


def message_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "template": "appointment_confirmation",
        "to": {"phone": "010-1234-5678", "name": "홍길동"},
        "channel": "sms",
        "center": dict(CENTER),
        "data": appointment_data(),
    }
    body.update(changes)
    return body


def email_body(**changes: Any) -> dict[str, Any]:
    return message_body(to={"email": "hong@example.com", "name": "홍길동"}, channel="email", **changes)


class RunningClock:
    """A clock set to ``start`` that runs on with real time: for tests that wait on send slots."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self.started = time.monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self.started)


# 11:00 in Korea: outside quiet hours and the advertising night rule.
KOREAN_MORNING = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


class FrozenClock:
    """The service's clock (``ctx.clock``), standing still until a test moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
