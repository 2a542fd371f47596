"""The no-show chart: a bar and an interval per shown group, words instead of a bar for a hidden
one, every label escaped (a group value comes from the booking system)."""

from __future__ import annotations

from notifier.console.attendance_chart import ChartRow, no_show_chart


def test_a_shown_group_gets_a_bar_and_its_interval_and_a_hidden_one_only_words() -> None:
    svg = str(
        no_show_chart(
            [ChartRow("24h,2h", 0.25, 0.1, 0.4), ChartRow("48h,3h", None, None, None)],
            "불참률",
            "설명",
            "5건 미만",
        )
    )
    assert svg.count('<rect class="rate"') == 1 and svg.count('<g class="interval"') == 1
    assert '<text class="hidden-cell"' in svg and "5건 미만" in svg
    assert "<title" in svg and "<desc" in svg and "25.0%" in svg


def test_labels_and_words_are_escaped() -> None:
    svg = str(no_show_chart([ChartRow("<script>x</script>", 0.5, 0.4, 0.6)], "a<b", "c&d", "e"))
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "a&lt;b" in svg and "c&amp;d" in svg


def test_the_axis_ends_at_the_tenth_above_the_highest_interval() -> None:
    svg = str(no_show_chart([ChartRow("a", 0.2, 0.15, 0.33)], "t", "d", "h"))
    assert ">40%</text>" in svg and ">50%</text>" not in svg
