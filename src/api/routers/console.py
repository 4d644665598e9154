"""The console: `/console` serves one HTML page and its ES modules, CSS and icon
from `api/console_static/` (no other host, no build step). Every answer carries a
strict Content-Security-Policy: scripts only from this origin and never inline,
no plugins, no framing; the console reaches nothing but this API."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse, Response

from api.problems import ApiProblem

STATIC = Path(__file__).resolve().parent.parent / "console_static"
MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
ASSETS = frozenset(p.name for p in STATIC.iterdir() if p.suffix in MEDIA_TYPES)
# blob: for evidence thumbnails and downloads, which are fetched with the caller's token.
CSP = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' blob:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",
}
router = APIRouter(include_in_schema=False)


@router.get("/console")
async def console_page() -> Response:
    return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8", headers=HEADERS)


@router.get("/console/")
async def console_slash() -> Response:
    return RedirectResponse("/console", status_code=308, headers=HEADERS)


@router.get("/console/assets/{name}")
async def console_asset(name: str) -> Response:
    if name not in ASSETS:
        raise ApiProblem(404, "not_found", f"no console asset {name!r}")
    return FileResponse(STATIC / name, media_type=MEDIA_TYPES[Path(name).suffix], headers=HEADERS)
