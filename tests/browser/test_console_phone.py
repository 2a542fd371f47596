"""The console on a phone (375 CSS pixels wide): a wide table scrolls sideways in its own region
instead of squeezing its columns until words break ("Cha/nnel", "자/세/히", "2026/-12-/06"); the
region can be reached and scrolled with the keyboard, and axe-core finds nothing on the pages,
not even a moderate or minor problem on the home page."""

from __future__ import annotations

import re

from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from tests.browser.conftest import fill, press
from tests.browser.test_console_pages import signed_in
from tests.console import make_staff, sign_in
from tests.factories import message_body
from tests.integration.test_console_campaigns import created_id, upload

PHONE_WIDTH = 375

# For each cell of the page's tables: its text, how many lines it takes and how many words it has,
# and the width of its table and of the region the table scrolls in.
CELLS = """
return [...document.querySelectorAll('main table th, main table td')].map(cell => {
  const tops = new Set();  // the lines its text is on (text a screen reader alone reads aside)
  const texts = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
  for (let text = texts.nextNode(); text; text = texts.nextNode()) {
    if (text.parentElement.closest('.visually-hidden')) continue;
    const range = document.createRange();
    range.selectNodeContents(text);
    for (const r of range.getClientRects()) if (r.width > 0) tops.add(Math.round(r.top));
  }
  const region = cell.closest('.scroll');
  return {
    text: cell.innerText.trim(),
    lines: tops.size,
    words: cell.innerText.trim().split(/\\s+/).filter(Boolean).length,
    nowrap: getComputedStyle(cell).whiteSpace === 'nowrap',
    table: cell.closest('table').scrollWidth,
    region: region ? region.clientWidth : null,
    scrolls: region ? getComputedStyle(region).overflowX === 'auto' : false,
  };
});
"""


def on_a_phone(browser: WebDriver) -> None:
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": PHONE_WIDTH, "height": 800, "deviceScaleFactor": 1, "mobile": True},
    )


def assert_readable(browser: WebDriver) -> list[dict]:
    """No word of any table cell is broken over two lines; a time or code keeps one line; a table
    wider than the screen is inside a region that scrolls."""
    cells = browser.execute_script(CELLS)
    assert cells, browser.current_url
    for cell in cells:
        assert cell["lines"] <= max(cell["words"], 1), (browser.current_url, repr(cell))
        if cell["nowrap"]:
            assert cell["lines"] <= 1, (browser.current_url, cell)
        if cell["table"] > PHONE_WIDTH:
            assert cell["region"] is not None and cell["scrolls"], (browser.current_url, cell)
    return cells


def test_the_console_tables_are_readable_on_a_phone(
    ctx, client, auth, browser, console_url, axe_check
) -> None:
    for n in range(3):
        body = message_body(to={"phone": f"010-2345-678{n}", "name": "홍길동"}, center={"code": "seosan"})
        body["reference"] = f"booking-2026-12-{n:04d}"
        assert client.post("/v1/messages", json=body, headers=auth).status_code == 202
    make_staff(ctx, "boss@seosan.example.kr", role="manager")
    sign_in(client, "boss@seosan.example.kr")
    created_id(upload(client, name="12월 취업 지원 프로그램 안내"))
    on_a_phone(browser)
    signed_in(browser, console_url, "boss@seosan.example.kr")
    assert_readable(browser)  # home: today's and 14 days' counts by channel
    axe_check(every_impact=True)
    browser.find_element(By.LINK_TEXT, "메시지").click()
    fill(browser, "휴대전화 번호 또는 이메일", "010-2345-6780")
    press(browser, "검색")
    cells = assert_readable(browser)
    dates = [c for c in cells if re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", c["text"])]
    assert dates and all(c["lines"] == 1 and c["nowrap"] for c in dates)  # the creation time on one line
    assert any(c["text"] == "자세히" and c["lines"] == 1 for c in cells)
    region = browser.find_element(By.CSS_SELECTOR, "main .scroll")
    assert browser.execute_script("return arguments[0].scrollWidth > arguments[0].clientWidth", region)
    axe_check()
    for page in ("campaigns", "audit"):
        browser.get(f"{console_url}/{page}")
        assert_readable(browser)
        axe_check()
