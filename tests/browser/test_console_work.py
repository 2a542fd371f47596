"""The campaign, template and appointment pages in a real browser, each checked by axe-core.

The campaign runs from the CSV upload to finished with real worker and scheduler processes
(started as the e2e tests start them) and the messages reaching the Twilio-compatible fake;
the progress on the page updates without a reload.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.browser.conftest import WAIT_SECONDS, fill, gone, press
from tests.browser.test_console_pages import signed_in
from tests.conftest import wait_for
from tests.console import make_staff

pytestmark = pytest.mark.slow

FAST = {"NOTIFIER_RATE_LIMIT_PER_SECOND": "5000", "NOTIFIER_REQUEUE_AFTER_SECONDS": "1"}
PHONES = [f"010-5000-{n:04d}" for n in range(1, 26)]


def test_run_a_csv_campaign_from_upload_to_finished(
    ctx, browser, console_url, axe_check, processes, twilio, tmp_path
) -> None:
    processes("worker", "--queues", "transactional,bulk", "--concurrency", "2", extra_env=FAST)
    processes("scheduler", extra_env=FAST)
    rows = [
        "phone,name,deadline",
        *[f"{p},홍길동{n},12월 19일(금)" for n, p in enumerate(PHONES)],
        "02-123,x,",
    ]
    listing = tmp_path / "list.csv"
    listing.write_text("\n".join(rows) + "\n", encoding="utf-8")
    make_staff(ctx, "kim@seosan.example.kr")
    signed_in(browser, console_url, "kim@seosan.example.kr")
    browser.find_element(By.LINK_TEXT, "캠페인").click()
    axe_check()
    browser.find_element(By.LINK_TEXT, "새 캠페인").click()
    axe_check()
    fill(browser, "캠페인 이름", "12월 도약보장패키지 안내")
    Select(browser.find_element(By.ID, "c-template")).select_by_value("program_announcement_jobseekers")
    Select(browser.find_element(By.ID, "c-channel")).select_by_value("sms")
    browser.find_element(By.ID, "c-file").send_keys(str(listing))
    press(browser, "올리고 검사하기")
    report = browser.find_element(By.ID, "report").text
    assert "25" in report  # usable
    assert "27" in browser.find_element(By.ID, "rejections").text  # the landline's row, header = 1
    assert "홍길동0님" in browser.find_element(By.ID, "preview-sms").text
    axe_check()
    fill(browser, "테스트 받을 휴대전화", "010-7777-0001")
    press(browser, "나에게 테스트 보내기")
    wait_for(lambda: any(m.to == "+821077770001" for m in twilio.messages), 30, what="the test message")
    press(browser, "시작")
    page = browser.find_element(By.TAG_NAME, "html")
    wait_for(
        lambda: browser.find_element(By.ID, "campaign-status").text == "완료",
        60,
        what="the campaign finished on the page",
    )
    assert not gone(page)  # the page updated itself, with no reload
    assert "발송됨" in browser.find_element(By.ID, "counts").text  # live.js says the statuses too
    assert browser.find_element(By.ID, "progress-text").text == "25/25"
    axe_check()
    sent_to = Counter(m.to for m in twilio.messages if m.to != "+821077770001")
    assert len(sent_to) == 25 and set(sent_to.values()) == {1}


def test_edit_and_preview_a_template(ctx, browser, console_url, axe_check) -> None:
    make_staff(ctx, "boss@seosan.example.kr", role="manager")
    signed_in(browser, console_url, "boss@seosan.example.kr")
    browser.find_element(By.LINK_TEXT, "템플릿").click()
    axe_check()
    browser.find_element(By.LINK_TEXT, "구직자 대상 기업·구직자 도약보장패키지 안내").click()
    axe_check()
    browser.find_element(By.LINK_TEXT, "편집").click()
    source = browser.find_element(By.ID, "src-ko-sms-txt")
    source.send_keys(" 감사합니다")
    wait_for(
        lambda: "감사합니다" in browser.find_element(By.ID, "live-preview").text,
        WAIT_SECONDS,
        what="the live preview",
    )
    axe_check()
    press(browser, "저장")
    assert "새 버전을 저장했습니다" in browser.find_element(By.CSS_SELECTOR, ".notice").text
    assert "boss@seosan.example.kr" in browser.find_element(By.ID, "versions").text
    press(browser, "비교")
    assert "감사합니다" in browser.find_element(By.CSS_SELECTOR, ".diff .add").text
    axe_check()


def test_a_centres_day_of_appointments_masked_and_accessible(
    ctx, client, make_key, browser, console_url, axe_check
) -> None:
    day = ctx.clock().astimezone(ctx.settings.timezone).date() + timedelta(days=2)
    body = {
        "recipient": {"name": "홍길동", "phone": "010-2345-6789"},
        "center": "seosan",
        "kind": "in_depth_counseling",
        "starts_at": f"{day.isoformat()}T14:00:00+09:00",
        "duration_minutes": 50,
        "counselor": "김상담",
        "location": "2층 상담실",
    }
    headers = {"Authorization": f"Bearer {make_key('appointments')}"}
    assert client.put("/v1/appointments/bk-1", json=body, headers=headers).status_code == 201
    make_staff(ctx, "kim@seosan.example.kr")
    signed_in(browser, console_url, "kim@seosan.example.kr")
    browser.find_element(By.LINK_TEXT, "예약").click()
    field = browser.find_element(By.ID, "a-day")
    browser.execute_script("arguments[0].value = arguments[1]", field, day.isoformat())
    press(browser, "보기")
    shown = browser.find_element(By.ID, "appointments").text
    assert "홍*동" in shown and "010-****-6789" in shown and "홍길동" not in shown
    assert "확인 안내 · 문자" in shown  # what was sent
    axe_check()
