"""/openapi.json, /docs (Swagger UI) and /redoc, served with the assets the
`fastapi-offline` package ships: a browser with no internet access renders
them, and nothing is fetched from another host.

They are registered as ordinary FastAPI routes (not FastAPI's built-in ones,
which are bare Starlette routes), so the request metrics label them with
their path like every other route instead of `unmatched`."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response

from api.problems import ApiProblem

ASSETS = Path(fastapi_offline.__file__).parent / "static"
ASSET_NAMES = frozenset({"swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js", "favicon.png"})
ASSET_PATH = "/docs/assets"
OPENAPI_PATH = "/openapi.json"
OAUTH2_REDIRECT = "/docs/oauth2-redirect"
# ReDoc's sidebar shows its maker's logo from their CDN: point it at ours.
REDOC_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"
CACHE = {"Cache-Control": "public, max-age=86400"}
BUILT_IN: dict[str, Any] = {"docs_url": None, "redoc_url": None, "openapi_url": None}


def install(app: FastAPI) -> None:
    """Add the documentation routes (create the app with docs_url, redoc_url and openapi_url None)."""

    @app.get(OPENAPI_PATH, include_in_schema=False)
    async def openapi_document() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=root + OPENAPI_PATH,
            title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=root + OAUTH2_REDIRECT,
            swagger_js_url=f"{root}{ASSET_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSET_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSET_PATH}/favicon.png",
            swagger_ui_parameters=app.swagger_ui_parameters,
        )

    @app.get(OAUTH2_REDIRECT, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=root + OPENAPI_PATH,
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{ASSET_PATH}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSET_PATH}/favicon.png",
            with_google_fonts=False,
        )

    @app.get(ASSET_PATH + "/{name}", include_in_schema=False)
    async def asset(name: str) -> Response:
        if name not in ASSET_NAMES:
            raise ApiProblem(404, "not_found", f"no documentation asset {name!r}")
        if name == "redoc.standalone.js":
            return Response(redoc_bundle(), media_type="text/javascript; charset=utf-8", headers=CACHE)
        return FileResponse(ASSETS / name, headers=CACHE)


@cache
def redoc_bundle() -> bytes:
    return (ASSETS / "redoc.standalone.js").read_bytes().replace(REDOC_LOGO, f"{ASSET_PATH}/favicon.png".encode())
