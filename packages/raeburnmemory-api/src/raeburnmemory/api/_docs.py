"""The interactive documentation pages, ``/docs`` and ``/redoc``, that need no internet.

FastAPI's own pages load Swagger UI and ReDoc from a CDN, so they stay blank on a machine
without internet access. These pages load the same scripts from the server itself: the files
ship in the ``fastapi-offline`` distribution (a dependency), which bundles Swagger UI and
ReDoc and is updated as they are.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["ASSETS_URL", "add_docs_pages"]

#: Where the scripts, the style sheet and the icon of the pages are served.
ASSETS_URL = "/docs-assets"


def _assets_dir() -> Path:
    """The folder of ``swagger-ui-bundle.js``, ``swagger-ui.css`` and ``redoc.standalone.js``."""
    return Path(str(files("fastapi_offline") / "static"))


def add_docs_pages(app: FastAPI, title: str) -> None:
    """Serve ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) on ``app`` from local files.

    ``app`` must have been made with ``docs_url=None`` and ``redoc_url=None``.
    """
    app.mount(ASSETS_URL, StaticFiles(directory=_assets_dir()), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"

    def locations(request: Request) -> tuple[str, str]:
        """The schema's URL and the assets' folder, under the root path the app is served at."""
        root = request.scope.get("root_path", "")
        return f"{root}{openapi_url}", f"{root}{ASSETS_URL}"

    def page(
        render: Callable[..., HTMLResponse], name: str, **asset_files: str
    ) -> Callable[[Request], Awaitable[HTMLResponse]]:
        """A page drawn by ``render``, titled ``name``; each of ``asset_files`` (a keyword of
        ``render`` and a file name) is served from the assets' folder."""

        async def serve(request: Request) -> HTMLResponse:
            schema, assets = locations(request)
            urls = {option: f"{assets}/{file}" for option, file in asset_files.items()}
            return render(openapi_url=schema, title=f"{title} - {name}", **urls)

        return serve

    swagger_ui = page(
        get_swagger_ui_html,
        "Swagger UI",
        swagger_js_url="swagger-ui-bundle.js",
        swagger_css_url="swagger-ui.css",
        swagger_favicon_url="favicon.png",
    )
    redoc = page(
        partial(get_redoc_html, with_google_fonts=False),
        "ReDoc",
        redoc_js_url="redoc.standalone.js",
        redoc_favicon_url="favicon.png",
    )
    app.get("/docs", include_in_schema=False, name="swagger_ui")(swagger_ui)
    app.get("/redoc", include_in_schema=False, name="redoc")(redoc)
