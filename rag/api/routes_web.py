"""GET / and GET /static/{name}: the chat page, plain files shipped in rag/web (no build step).

The page holds no data, so it is open like /health and /docs; every call it makes goes to
the guarded endpoints with the key the person typed. Only the files listed below are served,
under a Content-Security-Policy that allows nothing but this origin: no inline script, no
external resource, so the page works offline and a document's text can never run as code.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from rag.api.errors import ApiError

WEB = Path(__file__).resolve().parent.parent / "web"
FILES = {"app.js": "text/javascript", "style.css": "text/css"}
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
                               "connect-src 'self'; img-src 'self' data:; base-uri 'none'; "
                               "form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",  # revalidate, so an upgraded server never mixes old files
}

router = APIRouter(tags=["web"], include_in_schema=False)


@router.api_route("/", methods=["GET", "HEAD"])  # monitors check with HEAD
async def page() -> FileResponse:
    """The chat page."""
    return FileResponse(WEB / "index.html", media_type="text/html", headers=HEADERS)


@router.get("/static/{name}")
async def static(name: str) -> FileResponse:
    """One of the page's own files."""
    if name not in FILES:
        raise ApiError(404, "not_found", f"No static file {name!r}.", param="name")
    return FileResponse(WEB / name, media_type=FILES[name], headers=HEADERS)
