"""The price table: documented example defaults, overridden by NOTIFIER_PRICES."""

from __future__ import annotations

import pytest

from notifier.config import Settings
from notifier.domain.prices import DEFAULT_PRICES, parse_prices
from notifier.errors import ConfigError


def test_prices_override_the_examples_one_by_one() -> None:
    table = Settings.from_env(
        {"NOTIFIER_SECRET_KEY": "x", "NOTIFIER_PRICES": "solapi.SMS=18,twilio.lms=200"}
    ).prices
    assert table.price("solapi", "SMS") == 18
    assert table.price("solapi", "LMS") == DEFAULT_PRICES["solapi"]["LMS"]
    assert table.price("twilio", "LMS") == 200


def test_an_estimate_multiplies_counts_by_prices_and_says_when_a_price_is_missing() -> None:
    table = parse_prices("")
    assert table.estimate("solapi", {"SMS": 3, "LMS": 2}) == 3 * 20 + 2 * 50
    assert table.estimate("twilio", {"ALIMTALK": 1}) is None  # Twilio sends no AlimTalk


@pytest.mark.parametrize("spec", ["solapi=20", "solapi.MMS=20", "solapi.SMS=abc", "solapi.SMS=-1"])
def test_a_price_that_cannot_work_stops_the_start_naming_the_variable(spec: str) -> None:
    with pytest.raises(ConfigError, match="NOTIFIER_PRICES"):
        Settings.from_env({"NOTIFIER_SECRET_KEY": "x", "NOTIFIER_PRICES": spec})
