"""Browser tests: Selenium drives Debian's Chromium (``/usr/bin/chromium`` through
``/usr/bin/chromedriver``; ``.ci/run`` installs both when missing, nothing is downloaded at run
time) against the app served over real HTTP by ``live_api``.

Fixtures and helpers for every browser test:
  browser      a headless Chromium with a fresh profile (``--user-data-dir`` in tmp_path)
  console_url  the live console's base URL (``http://127.0.0.1:PORT/console``)
  axe_check    runs axe-core (vendored in tests/browser/axe/, MPL-2.0) in the page and fails
               on any serious or critical violation (``every_impact=True``: on any violation)
A failing test leaves a screenshot and the page source in ``test-artifacts/`` at the repository
root (git-ignored; CI keeps it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement

from tests.conftest import ROOT, wait_for

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
AXE = Path(__file__).resolve().parent / "axe" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts"
BLOCKING_IMPACTS = ("serious", "critical")
# WCAG 2.0/2.1 A and AA rules (KWCAG 2.2 follows WCAG 2.1), plus axe's best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
WAIT_SECONDS = 10


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keep each phase's report on the item, so the browser fixture knows whether the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def save_artifacts(driver: WebDriver, node_id: str) -> Path:
    """Save a screenshot and the page source of ``driver`` under test-artifacts/."""
    folder = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", node_id)
    folder.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(folder / "screenshot.png"))
    (folder / "page.html").write_text(driver.page_source, encoding="utf-8")
    (folder / "url.txt").write_text(driver.current_url, encoding="utf-8")
    return folder


@pytest.fixture
def browser(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1280,900",
        "--lang=ko-KR",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"intl.accept_languages": "ko-KR,ko"})
    service = Service(executable_path=CHROMEDRIVER, log_output=str(tmp_path / "chromedriver.log"))
    driver = webdriver.Chrome(service=service, options=options)
    driver.implicitly_wait(0)
    try:
        yield driver
    finally:
        failed = any(
            getattr(getattr(request.node, f"report_{phase}", None), "failed", False)
            for phase in ("setup", "call")
        )
        if failed:
            save_artifacts(driver, request.node.nodeid)
        driver.quit()


@pytest.fixture
def console_url(live_api: str) -> str:
    return f"{live_api}/console"


def axe_violations(driver: WebDriver, every_impact: bool = False) -> list[dict[str, Any]]:
    """Run axe-core in the current page; return its serious and critical violations (or all)."""
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})"
        ".then(r => done(JSON.stringify(r.violations)), e => done(JSON.stringify({error: String(e)})));",
        AXE_TAGS,
    )
    parsed = json.loads(result)
    if isinstance(parsed, dict):
        raise AssertionError(f"axe-core did not run: {parsed['error']}")
    return [v for v in parsed if every_impact or v.get("impact") in BLOCKING_IMPACTS]


@pytest.fixture
def axe_check(browser: WebDriver) -> Callable[..., None]:
    """Fail the test if the page in the browser has a serious or critical accessibility problem
    (``check(every_impact=True)``: any problem axe finds, moderate and minor ones too)."""

    def check(every_impact: bool = False) -> None:
        violations = axe_violations(browser, every_impact)
        summary = [
            f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in violations
        ]
        assert not violations, f"accessibility violations on {browser.current_url}:\n" + "\n".join(summary)

    return check


def fill(driver: WebDriver, label: str, value: str) -> None:
    """Type ``value`` into the field whose <label> reads ``label`` (as a person finds it)."""
    field_id = driver.find_element(By.XPATH, f"//label[normalize-space()='{label}']").get_attribute("for")
    assert field_id, f"the label {label!r} names no field"
    element = driver.find_element(By.ID, field_id)
    element.clear()
    element.send_keys(value)


def gone(element: WebElement) -> bool:
    """Whether ``element``'s page has been replaced by another."""
    try:
        element.tag_name  # noqa: B018  (touching it raises once its page is gone)
    except StaleElementReferenceException:
        return True
    except WebDriverException as exc:
        # Asked while the old page is being torn down, Chromium may answer that the node "does
        # not belong to the document" instead of calling it stale: it is gone all the same.
        if "does not belong to the document" in str(exc):
            return True
        raise
    return False


def press(driver: WebDriver, text: str) -> None:
    """Click the button that reads ``text`` and wait for the page it leads to."""
    page = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.XPATH, f"//button[normalize-space()='{text}']").click()
    wait_for(lambda: gone(page), WAIT_SECONDS, what=f"the page after pressing {text!r}")
    wait_for(lambda: loaded(driver), WAIT_SECONDS, what=f"the page after pressing {text!r} to load")


def loaded(driver: WebDriver) -> bool:
    """Whether the browser has finished loading the current page (after any redirect)."""
    try:
        return bool(driver.execute_script("return document.readyState") == "complete")
    except StaleElementReferenceException:
        return False
