"""The person's appointment page in a real browser, under the headers every person's page carries.

Its content policy loads nothing and runs no script, so the page must still look as designed
(its style is inline) and its buttons must still answer; and another site must not be able to
show it in a frame, where its buttons could be clicked for the person.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from selenium.webdriver.common.by import By

from tests.browser.conftest import WAIT_SECONDS, loaded, press
from tests.conftest import wait_for
from tests.integration.test_appointments_api import booking
from tests.integration.test_recipient_page_and_webhooks import page_path


def test_the_page_keeps_its_style_and_its_buttons_answer(browser, live_api, client, headers, clock) -> None:
    appointment = client.put("/v1/appointments/b1", json=booking(), headers=headers).json
    browser.get(live_api + page_path(appointment))
    button = browser.find_element(By.XPATH, "//button[normalize-space()='참석 확인']")
    assert button.value_of_css_property("background-color") == "rgba(26, 84, 144, 1)"  # #1a5490
    press(browser, "참석 확인")
    assert "참석 확인이 전달되었습니다" in browser.find_element(By.TAG_NAME, "body").text
    assert client.get("/v1/appointments/b1", headers=headers).json["attendance"] == "confirmed"


@pytest.fixture
def elsewhere() -> Iterator[Callable[[str], str]]:
    """Another site (another origin): serves a page that frames ``url``; gives its address."""
    framed: list[str] = []

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = f'<!doctype html><title>elsewhere</title><iframe src="{framed[-1]}"></iframe>'.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def framing(url: str) -> str:
        framed.append(url)
        return f"http://127.0.0.1:{server.server_port}/"

    yield framing
    server.shutdown()
    thread.join()
    server.server_close()


def test_another_site_cannot_show_the_page_in_a_frame(
    browser, live_api, client, headers, clock, elsewhere
) -> None:
    appointment = client.put("/v1/appointments/b2", json=booking(), headers=headers).json
    browser.get(elsewhere(live_api + page_path(appointment)))
    wait_for(lambda: loaded(browser), WAIT_SECONDS, what="the other site's page")
    browser.switch_to.frame(browser.find_element(By.TAG_NAME, "iframe"))
    wait_for(lambda: loaded(browser), WAIT_SECONDS, what="the frame")
    assert browser.find_elements(By.XPATH, "//button[normalize-space()='참석 확인']") == []
    browser.switch_to.default_content()
