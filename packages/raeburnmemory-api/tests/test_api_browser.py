"""/docs and /redoc in a real headless Chromium, from a real server, with no way out to a network.

Chromium and ChromeDriver come from Debian's packages (``chromium``, ``chromium-driver``); the
tests skip without them (the ``browser`` fixture is in conftest.py). Run them with
``pytest -m browser`` (``nox -s browser``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from raeburnmemory.api.headless import requested_urls

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Every operation of the API, as the pages list them.
OPERATIONS = {
    "/healthz",
    "/memory/count",
    "/memory/forget",
    "/memory/session-overview",
    "/memory/graph",
    "/memory/similar",
    "/memory/interactions",
    "/memory/interactions/batch",
    "/memory/interactions/{prompt_id}",
    "/memory/sessions",
    "/memory/sessions/{session_id}",
    "/memory/stats",
}
# ReDoc's footer shows this logo if it can, and drops it when it cannot load.
OPTIONAL_ELSEWHERE = {"https://cdn.redoc.ly/redoc/logo-mini.svg"}
_WAIT = 60  # seconds a page may take to show the operations on a loaded machine


def _elsewhere(urls: set[str], server: str) -> set[str]:
    """The URLs that were neither the server's, nor inline, nor the browser's own."""
    local = (server + "/", "data:", "blob:", "chrome:", "about:")
    return {url for url in urls if not url.startswith(local)} - OPTIONAL_ELSEWHERE


def test_swagger_ui_lists_every_operation_offline(
    start_server: Callable[..., Any], browser: Any
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    server = start_server({}, workers=1)
    browser.get(f"{server.url}/docs")

    def listed(driver: Any) -> set[str]:
        found = driver.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")
        return {element.get_attribute("data-path") for element in found}

    WebDriverWait(browser, _WAIT).until(lambda driver: listed(driver) >= OPERATIONS)
    assert listed(browser) == OPERATIONS
    assert "raeburnmemory" in browser.title
    assert not _elsewhere(requested_urls(browser), server.url)


def test_redoc_lists_every_operation_offline(
    start_server: Callable[..., Any], browser: Any
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    server = start_server({}, workers=1)
    browser.get(f"{server.url}/redoc")

    def text(driver: Any) -> str:
        return str(driver.find_element(By.TAG_NAME, "body").text)

    WebDriverWait(browser, _WAIT).until(lambda driver: "/memory/similar" in text(driver))
    shown = text(browser)
    assert all(operation in shown for operation in OPERATIONS), shown[:2000]
    assert not _elsewhere(requested_urls(browser), server.url)
