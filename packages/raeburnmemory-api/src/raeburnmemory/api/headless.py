"""A headless Chromium that reaches 127.0.0.1 and nothing else, for tests and benchmarks.

Chromium and ChromeDriver come from Debian's packages (``chromium``, ``chromium-driver``), the
driver from the ``selenium`` distribution (the ``test-browser`` extra)::

    with headless_chromium(tmp_path / "profile") as browser:
        browser.get(server.url + "/ui/")

Importing this module needs neither; :func:`headless_chromium` raises
:class:`ChromiumMissingError` when one of them is absent.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from raeburnmemory.core.errors import RaeburnMemoryError

__all__ = [
    "CHROMEDRIVER",
    "CHROMIUM",
    "ChromiumMissingError",
    "chromium_missing",
    "headless_chromium",
    "requested_urls",
]

#: The Chromium binary: the one on ``PATH``, else Debian's.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
#: The ChromeDriver binary: the one on ``PATH``, else Debian's.
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
_ARGUMENTS = (
    "--headless=new",
    "--no-sandbox",  # as root
    "--disable-gpu",
    "--disable-dev-shm-usage",
    # Any host but loopback goes to a proxy that does not exist, and no name resolves.
    "--proxy-server=http://127.0.0.1:9",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
)


class ChromiumMissingError(RaeburnMemoryError):
    """Chromium, ChromeDriver or the selenium package is not installed."""


def chromium_missing() -> str | None:
    """Why a headless Chromium cannot start here, or ``None`` when it can."""
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        return "Chromium is not installed (Debian packages chromium and chromium-driver)"
    try:
        import selenium.webdriver  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install 'raeburnmemory-api[test-browser]')"
    return None


@contextlib.contextmanager
def headless_chromium(profile: Path, width: int = 1280, height: int = 900) -> Iterator[Any]:
    """A selenium driver of a headless Chromium with its profile in ``profile``, whose window
    is ``width`` by ``height`` pixels; it logs every request (see :func:`requested_urls`)."""
    missing = chromium_missing()
    if missing is not None:
        raise ChromiumMissingError(missing)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (*_ARGUMENTS, f"--user-data-dir={profile}", f"--window-size={width},{height}"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def requested_urls(driver: Any) -> set[str]:
    """Every URL the browser asked for since the last call."""
    urls = set()
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.add(message["params"]["request"]["url"])
    return urls
