"""The memory explorer's files: served at /ui with their headers, turned off by a setting, shipped
in the wheel, with no address outside the server and the vendored library's licence."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from raeburnmemory.api import Settings
from raeburnmemory.api._explorer import SECURITY_HEADERS, explorer_dir
from raeburnmemory.core.errors import ConfigurationError

CYTOSCAPE_VERSION = "3.35.0"
PACKAGE = Path(__file__).resolve().parent.parent
# What a page or module names: src="...", href="...", and the modules a script imports.
_REFERENCE = re.compile(
    r'(?:src|href)="([^"#:]+)"'  # a page's files
    r'|from\s+"(\.{1,2}/[^"]+)"'  # a module's imports
    r'|\.src\s*=\s*"([^"]+)"'  # a script loaded later, relative to the page
)


def _own_files() -> list[Path]:
    found = explorer_dir().rglob("*")
    return [path for path in found if path.is_file() and "vendor" not in path.parts]


def test_the_explorer_is_served_at_ui_with_its_headers(client: Any) -> None:
    page = client.get("/ui/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "raeburnmemory explorer" in page.text
    for name, value in SECURITY_HEADERS.items():
        assert page.headers[name] == value
    script = client.get("/ui/js/app.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    library = client.get("/ui/vendor/cytoscape.min.js")
    assert library.status_code == 200
    assert "Copyright (c) 2016-2026, The Cytoscape Consortium" in library.text[:200]


def test_ui_without_the_slash_leads_to_the_explorer(client: Any) -> None:
    answer = client.get("/ui", follow_redirects=False)
    assert answer.status_code in (301, 307, 308)
    assert answer.headers["location"].endswith("/ui/")


def test_the_explorer_needs_no_key_but_its_calls_do(make_app: Callable[..., Any]) -> None:
    client = make_app(api_key="k")
    assert client.get("/ui/").status_code == 200
    assert client.get("/memory/stats").status_code == 401


def test_the_explorer_is_not_in_the_openapi_schema(client: Any) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not [path for path in paths if path.startswith("/ui")]


def test_a_setting_turns_the_explorer_off(make_app: Callable[..., Any]) -> None:
    client = make_app(explorer=False)
    for path in ("/ui/", "/ui/js/app.js", "/ui/vendor/cytoscape.min.js"):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert answer.json()["error"]["message"] == f"no route GET {path}"
    assert client.get("/healthz").status_code == 200


_SWITCHES = [("0", False), ("false", False), ("Off", False), ("1", True), ("yes", True)]


@pytest.mark.parametrize(("raw", "expected"), _SWITCHES)
def test_the_explorer_setting_is_read_from_the_environment(raw: str, expected: bool) -> None:
    assert Settings.from_env({"RAEBURN_EXPLORER": raw}).explorer is expected
    assert Settings.from_env({}).explorer is True


def test_a_bad_explorer_setting_names_the_variable() -> None:
    with pytest.raises(ConfigurationError, match=r"^RAEBURN_EXPLORER='maybe' must be 1 or 0"):
        Settings.from_env({"RAEBURN_EXPLORER": "maybe"})


def test_every_file_the_pages_name_exists() -> None:
    root = explorer_dir()
    named = 0
    for path in _own_files():
        if path.suffix not in (".html", ".js"):
            continue
        for match in _REFERENCE.finditer(path.read_text(encoding="utf-8")):
            target = next(group for group in match.groups() if group)
            base = root if path.suffix == ".html" or match.group(3) else path.parent
            assert (base / target).resolve().is_file(), f"{path.name} names {target}"
            named += 1
    assert named >= 15


def test_the_pages_load_nothing_from_elsewhere() -> None:
    for path in _own_files():
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"https?://|//cdn|@import", text), path.name
        assert "innerHTML" not in text, f"{path.name} must build elements, not parse HTML"


def test_the_vendored_library_has_its_licence_and_version() -> None:
    vendor = explorer_dir() / "vendor"
    licence = (vendor / "cytoscape.LICENSE").read_text(encoding="utf-8")
    assert "Permission is hereby granted, free of charge" in licence
    note = (vendor / "README.md").read_text(encoding="utf-8")
    assert f"| {CYTOSCAPE_VERSION} |" in note
    assert "npm pack" in note


def test_the_wheel_ships_the_explorer() -> None:
    wheel = pytest.importorskip("hatchling.builders.wheel")
    builder = wheel.WheelBuilder(str(PACKAGE))
    files = {f.distribution_path for f in builder.recurse_included_files()}
    prefix = "raeburnmemory/api/explorer/"
    for name in (
        "index.html", "explorer.css", "js/app.js", "js/graph.js",
        "vendor/cytoscape.min.js", "vendor/cytoscape.LICENSE", "vendor/README.md",
    ):  # fmt: skip
        assert prefix + name in files
