"""The per-process lookups: reused for the TTL, never keeping a miss, forgotten on demand."""

from __future__ import annotations

from notifier.lookups import Lookups


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def counting(answers: list[object]):
    calls: list[int] = []

    def load() -> object:
        calls.append(1)
        return answers[len(calls) - 1]

    return load, calls


def test_a_value_is_reused_within_the_ttl_and_read_again_after_it() -> None:
    clock = Clock()
    lookups = Lookups(5, timer=clock)
    load, calls = counting(["v1", "v2"])
    assert lookups.recent(("k",), load) == "v1"
    clock.now += 4.9
    assert lookups.recent(("k",), load) == "v1"
    assert len(calls) == 1
    clock.now += 0.2
    assert lookups.recent(("k",), load) == "v2"
    assert len(calls) == 2


def test_a_miss_is_never_kept_so_a_new_row_is_seen_at_once() -> None:
    lookups = Lookups(5, timer=Clock())
    load, calls = counting([None, "created"])
    assert lookups.recent(("k",), load) is None
    assert lookups.recent(("k",), load) == "created"
    assert len(calls) == 2


def test_forget_drops_only_what_the_predicate_picks() -> None:
    lookups = Lookups(5, timer=Clock())
    load_a, _ = counting(["a1", "a2"])
    load_b, _ = counting(["b1", "b2"])
    lookups.recent(("template", "a"), load_a)
    lookups.recent(("center", "b"), load_b)
    lookups.forget(lambda key: key == ("template", "a"))
    assert lookups.recent(("template", "a"), load_a) == "a2"
    assert lookups.recent(("center", "b"), load_b) == "b1"
    lookups.forget()
    assert lookups.recent(("center", "b"), load_b) == "b2"


def test_a_ttl_of_zero_reads_every_time_but_immutable_values_are_still_kept() -> None:
    lookups = Lookups(0, timer=Clock())
    load, _ = counting(["v1", "v2"])
    assert lookups.recent(("k",), load) == "v1"
    assert lookups.recent(("k",), load) == "v2"
    fixed, fixed_calls = counting(["version 3", "other"])
    assert lookups.forever(("template", "x", 3), fixed) == "version 3"
    assert lookups.forever(("template", "x", 3), fixed) == "version 3"
    assert len(fixed_calls) == 1


def test_a_read_begun_before_a_forget_is_not_kept() -> None:
    lookups = Lookups(5, timer=Clock())
    answers = iter(["old", "new"])

    def load_while_a_template_is_saved() -> object:
        value = next(answers)
        if value == "old":
            lookups.forget()  # another thread saves a template while this read is under way
        return value

    assert lookups.recent(("template", "a"), load_while_a_template_is_saved) == "old"
    assert lookups.recent(("template", "a"), load_while_a_template_is_saved) == "new"
