"""The console's words come from several page modules into one dictionary: a key may not mean
two things (a page would show another page's word, as "status_running" once did)."""

from __future__ import annotations

import pytest

from notifier.console import i18n
from notifier.console.work_words import add_words


def test_every_page_modules_words_join_the_dictionary_without_a_clash() -> None:
    add_words()  # the campaign, template and appointment pages' words, after the attendance ones
    assert i18n.WORDS["experiment_status_running"] == ("진행 중", "Running")
    assert i18n.WORDS["status_running"] == ("발송 중", "Running")


def test_a_word_that_would_change_an_existing_meaning_is_refused() -> None:
    with pytest.raises(ValueError, match="status_running"):
        i18n.add_words({"status_running": ("진행 중", "Running")})
    assert i18n.WORDS.get("status_running", ("발송 중", "Running")) == ("발송 중", "Running")
