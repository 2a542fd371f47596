"""The attendance pages in a real browser, each checked by axe-core: the report with its
hidden small cell and its chart, the CSV link, an experiment started and stopped by a
manager, and an outcome marked on an appointment."""

from __future__ import annotations

from selenium.webdriver.common.by import By
from sqlalchemy import select

from notifier.attendance.tables import experiments
from tests.browser.conftest import fill, press
from tests.browser.test_console_pages import signed_in
from tests.console import make_staff
from tests.integration.test_appointments_api import booking
from tests.integration.test_attendance_api import AFTER, book_and_record
from tests.integration.test_console_attendance import PLAN


def cells(browser, row_label: str) -> list[str]:
    row = browser.find_element(
        By.XPATH, f"//table[@id='attendance-table']//tr[th[normalize-space()='{row_label}']]"
    )
    return [cell.text for cell in row.find_elements(By.TAG_NAME, "td")]


def test_the_report_hides_small_cells_and_draws_the_chart(
    ctx, client, headers, clock, browser, console_url, axe_check
) -> None:
    book_and_record(client, headers, clock, PLAN)
    make_staff(ctx, "kim@seosan.example.kr")
    signed_in(browser, console_url, "kim@seosan.example.kr")
    browser.find_element(By.LINK_TEXT, "참석 현황").click()
    assert browser.find_element(By.TAG_NAME, "h1").text == "참석 현황"
    assert cells(browser, "심층 상담")[:5] == ["7", "6", "4", "2", "33.3%"]
    assert cells(browser, "심리 지원")[:6] == ["<5", "<5", "<5", "<5", "", ""]
    chart = browser.find_element(By.ID, "no-show-chart")
    assert chart.get_attribute("role") == "img"
    assert chart.size["width"] > 200 and chart.size["height"] > 50  # drawn, not an empty box
    assert len(chart.find_elements(By.CSS_SELECTOR, "rect.rate")) == 1
    assert len(chart.find_elements(By.CSS_SELECTOR, "g.interval")) == 1
    assert "5건 미만" in chart.find_element(By.CSS_SELECTOR, "text.hidden-cell").text
    assert "/console/attendance.csv" in browser.find_element(By.ID, "csv-link").get_attribute("href")
    axe_check()
    browser.find_element(By.ID, "group-weekday").click()
    press(browser, "보기")
    assert "group_by=weekday" in browser.current_url
    assert cells(browser, "심층 상담 · 목")[:1] == ["7"]  # 2026-12-03 was a Thursday
    axe_check()


def test_a_manager_starts_and_stops_an_experiment(ctx, clock, browser, console_url, axe_check) -> None:
    make_staff(ctx, "lee@seosan.example.kr", role="manager")
    signed_in(browser, console_url, "lee@seosan.example.kr")
    browser.find_element(By.LINK_TEXT, "알림 계획 실험").click()
    assert "아직 실험이 없습니다" in browser.find_element(By.ID, "experiments").text
    axe_check()
    fill(browser, "실험 이름", "48시간 전 안내 비교")
    fill(browser, "알림 계획 1", "24h,2h")
    fill(browser, "비율 (%) 1", "50")
    fill(browser, "알림 계획 2", "48h,3h")
    fill(browser, "비율 (%) 2", "50")
    press(browser, "실험 시작")
    assert "실험을 시작했습니다" in browser.find_element(By.CSS_SELECTOR, ".notice").text
    assert browser.find_element(By.ID, "experiment-status").text == "진행 중"
    assert "수치를 읽는 방법" in browser.page_source
    axe_check()
    press(browser, "실험 중지")
    assert browser.find_element(By.ID, "experiment-status").text == "중지됨"
    axe_check()
    with ctx.engine.connect() as conn:
        assert conn.execute(select(experiments.c.stopped_at)).scalar_one() is not None


def test_staff_mark_an_outcome(ctx, client, headers, clock, browser, console_url, axe_check) -> None:
    answer = client.put("/v1/appointments/b1", json=booking(), headers=headers)
    clock.now = AFTER
    make_staff(ctx, "kim@seosan.example.kr")
    signed_in(browser, console_url, "kim@seosan.example.kr")
    browser.get(f"{console_url}/appointments/{answer.json['id']}/outcome")
    assert browser.find_element(By.ID, "current-outcome").text == "아직 없음"
    axe_check()
    press(browser, "결과 기록")
    assert "참석 결과를 기록했습니다" in browser.find_element(By.CSS_SELECTOR, ".notice").text
    assert browser.find_element(By.ID, "current-outcome").text.startswith("참석")
    axe_check()
