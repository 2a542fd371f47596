"""The circuit breaker's rules as pure functions of what was recorded and the time."""

from __future__ import annotations

import pytest

from notifier.domain.breaker import BreakerRules, Circuit, Tally, circuit, recent, trips
from notifier.domain.routes import parse_routes

RULES = BreakerRules(consecutive=5, window_seconds=30.0, ratio=0.5, min_calls=10, cooldown_seconds=30.0)
NOW = 1_000_000.0


def test_five_retryable_failures_in_a_row_trip_the_provider() -> None:
    assert not trips(RULES, 4, [], NOW)
    assert trips(RULES, 5, [], NOW)


def test_half_of_the_last_30_seconds_failing_trips_it_once_enough_calls_ended() -> None:
    half_failed = [Tally(NOW - 10, 10, 5)]
    assert trips(RULES, 1, half_failed, NOW)
    assert not trips(RULES, 1, [Tally(NOW - 10, 10, 4)], NOW)


def test_a_few_calls_are_not_enough_to_judge_by_ratio() -> None:
    assert not trips(RULES, 1, [Tally(NOW - 1, 4, 4)], NOW)  # 4 of 4 failed, but only 4 calls


def test_calls_older_than_the_window_do_not_count() -> None:
    old_failures = [Tally(NOW - 31, 20, 20), Tally(NOW - 5, 10, 1)]
    assert recent(RULES, old_failures, NOW) == [Tally(NOW - 5, 10, 1)]
    assert not trips(RULES, 1, old_failures, NOW)
    assert trips(RULES, 1, old_failures, NOW - 10)  # ten seconds earlier they were in the window


def test_an_open_provider_waits_out_its_cool_down_then_takes_a_probe() -> None:
    assert circuit(RULES, None, NOW) is Circuit.CLOSED
    assert circuit(RULES, NOW - 29.9, NOW) is Circuit.OPEN
    assert circuit(RULES, NOW - 30, NOW) is Circuit.PROBING


@pytest.mark.parametrize(
    ("spec", "default", "seosan"),
    [
        ("", ["solapi", "twilio"], ["solapi", "twilio"]),
        ("twilio", ["twilio"], ["twilio"]),
        ("solapi,twilio; seosan=twilio,solapi", ["solapi", "twilio"], ["twilio", "solapi"]),
    ],
)
def test_provider_orders_parse_per_centre(spec: str, default: list[str], seosan: str) -> None:
    routes = parse_routes(spec)
    assert routes.order(None, ["solapi", "twilio"]) == default
    assert routes.order("seosan", ["solapi", "twilio"]) == seosan
    assert routes.order("seosan", ["twilio"]) == ["twilio"]  # only configured providers


@pytest.mark.parametrize("spec", ["kakao", "solapi,solapi", "=twilio", "twilio;seosan="])
def test_a_provider_order_that_cannot_work_is_refused(spec: str) -> None:
    with pytest.raises(ValueError, match=r"expected providers|centre code"):
        parse_routes(spec)
