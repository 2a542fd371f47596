"""The console's pages in a real browser, each checked by axe-core: search a message (the
phone never in the URL), add an opt-out, revoke an API key."""

from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select
from sqlalchemy import select

from notifier.consent.tables import opt_outs
from notifier.keys.tables import api_keys
from tests.browser.conftest import fill, press
from tests.console import PASSWORD, make_staff
from tests.factories import message_body


def signed_in(browser, console_url: str, email: str) -> None:
    browser.get(f"{console_url}/login")
    fill(browser, "이메일", email)
    fill(browser, "비밀번호", PASSWORD)
    press(browser, "로그인")
    assert browser.find_element(By.TAG_NAME, "h1").text == "홈"


def test_search_a_message_by_phone_and_open_its_detail(
    ctx, client, auth, browser, console_url, axe_check
) -> None:
    body = message_body(to={"phone": "010-2345-6789", "name": "홍길동"}, center={"code": "seosan"})
    assert client.post("/v1/messages", json=body, headers=auth).status_code == 202
    other = message_body(to={"phone": "010-8765-4321", "name": "김철수"}, center={"code": "gumi"})
    assert client.post("/v1/messages", json=other, headers=auth).status_code == 202
    make_staff(ctx, "kim@seosan.example.kr")
    signed_in(browser, console_url, "kim@seosan.example.kr")
    axe_check()  # home
    browser.find_element(By.LINK_TEXT, "메시지").click()
    fill(browser, "휴대전화 번호 또는 이메일", "010-2345-6789")
    press(browser, "검색")
    assert "2345" not in browser.current_url and "6789" not in browser.current_url
    results = browser.find_element(By.ID, "results").text
    assert "010-****-6789" in results and "4321" not in results
    axe_check()
    browser.find_element(By.CSS_SELECTOR, "#results a").click()
    assert "010-****-6789" in browser.find_element(By.TAG_NAME, "h1").text
    assert browser.find_element(By.ID, "message-status").text == "대기 중"
    axe_check()


def test_add_an_opt_out_and_find_it(ctx, browser, console_url, axe_check) -> None:
    make_staff(ctx, "kim@seosan.example.kr")
    signed_in(browser, console_url, "kim@seosan.example.kr")
    browser.find_element(By.LINK_TEXT, "수신거부").click()
    axe_check()
    field = browser.find_element(By.ID, "add-address")
    field.send_keys("hong@example.com")
    Select(browser.find_element(By.ID, "add-source")).select_by_visible_text("전화")
    press(browser, "수신거부 등록")
    assert "수신거부를 등록했습니다" in browser.find_element(By.CSS_SELECTOR, ".notice").text
    assert "전화" in browser.find_element(By.ID, "opt-out-records").text
    axe_check()
    with ctx.engine.connect() as conn:
        stored = list(conn.execute(select(opt_outs.c.channel, opt_outs.c.source)))
    assert stored == [("email", "call_center")]


def test_the_ministry_revokes_an_api_key(ctx, make_key, browser, console_url, axe_check) -> None:
    make_key("send", name="old-booking")
    make_staff(ctx, "moel@moel.example.kr", role="ministry", centers=[])
    signed_in(browser, console_url, "moel@moel.example.kr")
    browser.find_element(By.LINK_TEXT, "API 키").click()
    assert "old-booking" in browser.find_element(By.ID, "keys").text
    axe_check()
    press(browser, "폐기")
    assert "API 키를 폐기했습니다" in browser.find_element(By.CSS_SELECTOR, ".notice").text
    assert "폐기됨" in browser.find_element(By.ID, "keys").text
    axe_check()
    with ctx.engine.connect() as conn:
        assert conn.execute(select(api_keys.c.revoked_at)).scalar_one() is not None


def test_the_other_pages_pass_the_accessibility_check(ctx, browser, console_url, live_api, axe_check) -> None:
    from notifier.staff import signin

    signin.create_account(ctx, "new@seosan.example.kr", "신입", "staff", ["seosan"])
    link = signin.issue_reset_link(ctx, "new@seosan.example.kr")
    assert link.startswith(live_api)  # NOTIFIER_PUBLIC_URL is the live server
    browser.get(link)
    assert browser.find_element(By.TAG_NAME, "h1").text == "비밀번호 설정"
    axe_check()
    make_staff(ctx, "moel@moel.example.kr", role="ministry", centers=[])
    signed_in(browser, console_url, "moel@moel.example.kr")
    for menu in ("직원 계정", "감사 기록"):
        browser.find_element(By.LINK_TEXT, menu).click()
        assert browser.find_element(By.TAG_NAME, "h1").text == menu
        axe_check()
    browser.get(f"{console_url}/messages/no-such-message")
    assert browser.find_element(By.TAG_NAME, "h1").text == "찾을 수 없습니다"
    axe_check()
    press(browser, "English")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    browser.get(f"{console_url}/")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Home"
    axe_check()
