"""Signing in to the console in a real browser: the pages pass axe-core, a wrong password is
refused, and the sixth attempt in a row is locked out with a clear Korean message."""

from __future__ import annotations

from selenium.webdriver.common.by import By

from notifier.staff import lockout
from tests.browser.conftest import axe_violations, fill, press
from tests.console import PASSWORD, make_staff


def heading(browser) -> str:
    return browser.find_element(By.TAG_NAME, "h1").text


def test_staff_sign_in_see_home_and_sign_out(ctx, browser, console_url, axe_check) -> None:
    make_staff(ctx, "kim@seosan.example.kr", name="김상담")
    browser.get(f"{console_url}/login")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "ko"
    axe_check()
    fill(browser, "이메일", "kim@seosan.example.kr")
    fill(browser, "비밀번호", PASSWORD)
    press(browser, "로그인")
    assert heading(browser) == "홈"
    assert "김상담" in browser.find_element(By.CLASS_NAME, "who").text
    assert browser.find_element(By.CSS_SELECTOR, "svg.chart")
    axe_check()
    press(browser, "로그아웃")
    assert "로그아웃되었습니다" in browser.find_element(By.CLASS_NAME, "notice").text
    browser.get(f"{console_url}/")
    assert heading(browser) == "로그인"


def test_repeated_wrong_passwords_lock_the_account_with_a_clear_message(
    ctx, browser, console_url, axe_check
) -> None:
    make_staff(ctx, "lee@seosan.example.kr")
    browser.get(f"{console_url}/login")
    for attempt in range(lockout.ACCOUNT_LIMIT):
        fill(browser, "이메일", "lee@seosan.example.kr")
        fill(browser, "비밀번호", f"wrong password {attempt}")
        press(browser, "로그인")
        assert "이메일 또는 비밀번호가 맞지 않습니다" in browser.find_element(By.ID, "login-error").text
    axe_check()
    fill(browser, "이메일", "lee@seosan.example.kr")
    fill(browser, "비밀번호", PASSWORD)  # the right one, too late
    press(browser, "로그인")
    assert "로그인 시도가 너무 많아 잠시 잠겼습니다" in browser.find_element(By.ID, "login-error").text
    assert heading(browser) == "로그인"
    axe_check()


def test_the_accessibility_check_finds_an_unlabelled_field(browser, console_url) -> None:
    """The checker itself works: a field without a label is a serious violation."""
    page = "<!doctype html><html lang=ko><title>t</title><main><input></main>"
    browser.get(f"data:text/html;charset=utf-8,{page}")
    assert "label" in {v["id"] for v in axe_violations(browser)}


def test_pages_fit_a_phone_and_the_keyboard_focus_is_visible(ctx, browser, console_url, axe_check) -> None:
    from selenium.webdriver.common.keys import Keys

    make_staff(ctx, "kim@seosan.example.kr")
    browser.set_window_size(390, 844)
    browser.get(f"{console_url}/login")
    fill(browser, "이메일", "kim@seosan.example.kr")
    fill(browser, "비밀번호", PASSWORD)
    press(browser, "로그인")
    for path in ("/", "/messages", "/opt-outs"):
        browser.get(f"{console_url}{path}")
        overflow = browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px on a phone"
        axe_check()
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    focused = browser.switch_to.active_element
    assert focused.text == "본문 바로가기"
    assert focused.value_of_css_property("outline-style") == "solid"
    focused.send_keys(Keys.ENTER)
    assert browser.switch_to.active_element.get_attribute("id") == "main"
