"""The memory explorer at /ui in a real headless Chromium, against a real server on a seeded store,
with no way out to a network.

The tests take screenshots as they go; with ``RAEBURN_SCREENSHOTS_DIR=docs/images`` they are saved
there as ``explorer-<name>.png`` (the pictures of docs/explorer.md). Run them with
``pytest -m browser`` (``nox -s browser``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from raeburnmemory.api.headless import requested_urls
from raeburnmemory.api.keys import key_digest
from raeburnmemory.api.testing import Server, running_servers
from raeburnmemory.memory_graph import MemoryGraph

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ADMIN_KEY = "explorer-admin-key"
READER_KEY = "explorer-reader-key"
_WAIT = 60  # seconds a view may take on a loaded machine
_START = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
# session id -> (agent id, agent name, topic, prompts)
SESSIONS: dict[str, tuple[str, str, str, list[str]]] = {
    "alpha": ("planner", "Trip planner", "travel", [
        "Which visa do I need for a week in Japan?",
        "Book a train from Tokyo to Kyoto on Friday",
        "Find a quiet hotel near Kyoto station",
        "What should I pack for rain in autumn?",
        "Summarise the plan for the whole trip",
    ]),
    "beta": ("fixer", "Home helper", "home", [
        "How do I reset the router password?",
        "The kettle is leaking from its base, what now?",
        "Tune the heating schedule for the winter",
    ]),
    "gamma": ("shopper", "Shop assistant", "shop", [
        "Compare two kettle models under 50 euros",
        "Order tomato seeds for the garden",
    ]),
}  # fmt: skip


def _seed(path: Path) -> None:
    """The store the tests explore: three sessions, ten interactions, one caller-made link."""
    rows = []
    minute = 0
    for session, (agent, name, topic, prompts) in SESSIONS.items():
        for number, prompt in enumerate(prompts, start=1):
            minute += 7
            rows.append({
                "prompt": {"id": f"{session}-{number}", "text": prompt},
                "response": {"id": f"{session}-{number}-r", "text": f"Answer to: {prompt}"},
                "agent": {"id": agent, "name": name},
                "session_id": session,
                "metadata": {"topic": topic, "step": number},
                "timestamp": _START + timedelta(minutes=minute),
            })  # fmt: skip
    with MemoryGraph(path, embedding_model=None) as memory:
        memory.batch_add(rows)
        memory.link_prompts("alpha-1", "alpha-4", "cites")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real server on the seeded store, with a key that may do everything and a read-only one."""
    folder = tmp_path_factory.mktemp("explorer")
    store = folder / "seeded" / "graph.json"
    _seed(store)
    keys = folder / "keys.json"
    scopes = {ADMIN_KEY: ["read", "write", "admin"], READER_KEY: ["read"]}
    entries = [
        {"sha256": key_digest(key), "namespace": "default", "scopes": granted}
        for key, granted in scopes.items()
    ]
    keys.write_text(json.dumps({"keys": entries}), encoding="utf-8")
    env = {"RAEBURN_DB_PATH": str(store), "RAEBURN_API_KEYS_FILE": str(keys)}
    with running_servers(folder) as start:
        yield start(env, workers=1)


def _wait(driver: Any, condition: Callable[[Any], Any]) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, _WAIT).until(condition)


def _find(driver: Any, css: str) -> Any:
    from selenium.webdriver.common.by import By

    return _wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, css))


def _all(driver: Any, css: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return list(driver.find_elements(By.CSS_SELECTOR, css))


def _visible_text(driver: Any, css: str, wanted: str) -> str:
    """The text of the element ``css`` once it is shown and contains ``wanted``."""

    def shown(d: Any) -> str | bool:
        found = _all(d, css)
        text = str(found[0].text) if found and found[0].is_displayed() else ""
        return text if wanted in text else False

    return str(_wait(driver, shown))


def _sign_in(driver: Any, server: Server, key: str, view: str = "") -> None:
    """Open the explorer in a fresh tab state, type ``key`` when the first view asks for one,
    then go to ``view`` (a hash such as ``/search``)."""
    from selenium.webdriver.common.keys import Keys

    driver.get(f"{server.url}/ui/")
    driver.execute_script("sessionStorage.clear()")
    driver.get(f"{server.url}/ui/?fresh")
    _visible_text(driver, "#key-message", "needs an API key")
    _find(driver, "#api-key").send_keys(key + Keys.ENTER)
    if view:
        _wait(driver, lambda d: d.execute_script("return document.body.dataset.state") == "ready")
        driver.execute_script("location.hash = arguments[0]", view)


def _shot(driver: Any, name: str, folder: Path) -> None:
    """Save a screenshot under ``folder`` and, when asked, into the documentation's images."""
    assert driver.save_screenshot(str(folder / f"explorer-{name}.png"))
    wanted = os.environ.get("RAEBURN_SCREENSHOTS_DIR")
    if wanted:
        Path(wanted).mkdir(parents=True, exist_ok=True)
        assert driver.save_screenshot(str(Path(wanted) / f"explorer-{name}.png"))


def _row_ids(driver: Any) -> list[str]:
    rows = _all(driver, "#sessions-table tbody tr")
    return [row.get_attribute("data-session-id") for row in rows]


def _stored(server: Server, prompt_id: str) -> int:
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    return httpx.get(f"{server.url}/memory/interactions/{prompt_id}", headers=headers).status_code


def test_the_sessions_of_a_seeded_store_are_listed_offline(
    server: Server, browser: Any, tmp_path: Path
) -> None:
    _sign_in(browser, server, ADMIN_KEY)
    _wait(browser, lambda d: len(_row_ids(d)) == 3)
    # The newest activity first.
    assert _row_ids(browser) == ["gamma", "beta", "alpha"]
    cells = [cell.text for cell in _all(browser, 'tr[data-session-id="alpha"] td')]
    assert cells[0] == "alpha"
    assert cells[1] == "5"
    assert cells[4] == "planner"
    _visible_text(browser, "#sessions-summary", "10 interactions match.")
    rendered = browser.execute_script(
        "return performance.getEntriesByName('explorer:sessions-rendered').length"
    )
    assert rendered == 1
    _shot(browser, "sessions", tmp_path)
    local = (server.url + "/", "data:", "blob:", "chrome:", "about:")
    assert {url for url in requested_urls(browser) if not url.startswith(local)} == set()


def test_the_sessions_filter_by_agent(server: Server, browser: Any) -> None:
    _sign_in(browser, server, ADMIN_KEY, "/sessions?agent_id=fixer")
    _wait(browser, lambda d: _row_ids(d) == ["beta"])
    _visible_text(browser, "#sessions-summary", "3 interactions match.")
    assert _find(browser, "#filter-agent").get_attribute("value") == "fixer"


def test_a_session_opens_as_timeline_and_graph(
    server: Server, browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    _sign_in(browser, server, ADMIN_KEY)
    _wait(browser, lambda d: len(_row_ids(d)) == 3)
    browser.find_element(By.LINK_TEXT, "alpha").click()
    _wait(browser, lambda d: len(_all(d, "#timeline > li")) == 5)
    entries = _all(browser, "#timeline > li")
    assert [entry.get_attribute("data-prompt-id") for entry in entries] == [
        f"alpha-{n}" for n in range(1, 6)
    ]
    assert SESSIONS["alpha"][3][0] in entries[0].text
    assert "Trip planner (planner)" in entries[0].text
    _visible_text(browser, "#timeline-summary", "5 interactions shown")
    _shot(browser, "timeline", tmp_path)

    _find(browser, "#tab-graph").click()
    box = _find(browser, "#graph[data-nodes]")
    # Five prompts, five responses, one agent, one session.
    assert box.get_attribute("data-nodes") == "12"
    # Three links per interaction, four followed_by and the caller's one.
    assert box.get_attribute("data-edges") == "20"
    assert "1 link made by callers" in _find(browser, "#graph-legend").text
    assert _all(browser, "#graph canvas")
    _shot(browser, "graph", tmp_path)


def test_a_filtered_search_finds_the_expected_memory(
    server: Server, browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.support.ui import Select

    _sign_in(browser, server, ADMIN_KEY, "/search")
    _find(browser, "#search-text").send_keys("kettle")
    Select(_find(browser, "#search-mode")).select_by_value("keyword")
    _find(browser, "#search-submit").click()
    _wait(browser, lambda d: len(_all(d, "#results > li")) == 2)
    ids = {entry.get_attribute("data-prompt-id") for entry in _all(browser, "#results > li")}
    assert ids == {"beta-2", "gamma-1"}

    _find(browser, "#search-where").send_keys('{"topic": "home"}')
    _find(browser, "#search-submit").click()
    _wait(browser, lambda d: "where=" in d.current_url and len(_all(d, "#results > li")) == 1)
    hit = _all(browser, "#results > li")[0]
    assert hit.get_attribute("data-prompt-id") == "beta-2"
    assert "score " in hit.text
    assert "session beta" in hit.text
    _shot(browser, "search", tmp_path)


def test_a_bad_metadata_filter_is_named(server: Server, browser: Any) -> None:
    _sign_in(browser, server, ADMIN_KEY, "/search")
    _find(browser, "#search-form")
    _find(browser, "#search-text").send_keys("kettle")
    _find(browser, "#search-where").send_keys("{topic")
    _find(browser, "#search-submit").click()
    _visible_text(browser, "#notice", "The metadata filter is not JSON")
    assert _all(browser, "#results") == []


def test_delete_asks_first_and_needs_a_key_that_may_delete(
    server: Server, browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.keys import Keys

    _sign_in(browser, server, READER_KEY, "/memory/gamma-2")
    assert "Order tomato seeds" in _find(browser, "#memory-detail").text
    _find(browser, "#delete-memory").click()
    dialog = _find(browser, "#confirm[open]")
    assert "gamma-2" in dialog.text
    _shot(browser, "delete", tmp_path)
    _find(browser, "#confirm-cancel").click()
    _visible_text(browser, "#notice", "Nothing was deleted.")
    assert _stored(server, "gamma-2") == 200

    _find(browser, "#delete-memory").click()
    _find(browser, "#confirm[open]")
    _find(browser, "#confirm-ok").click()
    _visible_text(browser, "#notice", "This API key may not delete memories")
    assert _stored(server, "gamma-2") == 200

    _find(browser, "#change-key").click()
    _find(browser, "#api-key").send_keys(ADMIN_KEY + Keys.ENTER)
    _find(browser, "#memory-detail")
    _wait(browser, lambda d: d.execute_script("return document.body.dataset.state") == "ready")
    _find(browser, "#delete-memory").click()
    _find(browser, "#confirm[open]")
    _find(browser, "#confirm-ok").click()
    _visible_text(browser, "#notice", "Deleted the memory gamma-2.")
    _wait(browser, lambda d: len(_all(d, "#timeline > li")) == 1)
    assert _stored(server, "gamma-2") == 404


def test_a_wrong_key_gets_a_clear_message(server: Server, browser: Any, tmp_path: Path) -> None:
    _sign_in(browser, server, "not-the-key")
    message = _visible_text(browser, "#key-message", "refused")
    assert message == "The server refused this API key. Check it and type it again."
    assert _all(browser, "#sessions-table") == []
    assert browser.execute_script("return document.activeElement.id") == "api-key"
    assert browser.execute_script("return sessionStorage.length") == 0  # not kept
    assert "401" in _find(browser, "#notice").text
    _shot(browser, "wrong-key", tmp_path)


def test_the_explorer_is_usable_by_keyboard(server: Server, browser: Any) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    _sign_in(browser, server, ADMIN_KEY)
    _wait(browser, lambda d: len(_row_ids(d)) == 3)
    on_session = "return document.activeElement.closest('#sessions-table tbody') !== null"
    for _ in range(60):  # Tab through the header and the filters to the first session
        if browser.execute_script(on_session):
            break
        ActionChains(browser).send_keys(Keys.TAB).perform()
    assert browser.execute_script(on_session)
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    _wait(browser, lambda d: len(_all(d, "#timeline > li")) > 0)
    _all(browser, "#timeline a")[-1].click()  # the details of the last interaction
    _find(browser, "#delete-memory").send_keys(Keys.ENTER)
    _find(browser, "#confirm[open]")
    ActionChains(browser).send_keys(Keys.ESCAPE).perform()
    _visible_text(browser, "#notice", "Nothing was deleted.")


def test_the_sessions_are_readable_at_phone_width(
    server: Server, browser: Any, tmp_path: Path
) -> None:
    browser.set_window_size(390, 844)
    try:
        _sign_in(browser, server, ADMIN_KEY)
        _wait(browser, lambda d: len(_row_ids(d)) == 3)
        widths = browser.execute_script(
            "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert widths[0] <= widths[1], f"the page scrolls sideways: {widths}"
        _shot(browser, "phone", tmp_path)
    finally:
        browser.set_window_size(1280, 900)
