"""ASGI middleware: request ids with an access log line, a JSON 500, and the body size limit.

Pure ASGI classes rather than BaseHTTPMiddleware, so streaming responses pass straight
through and nothing is buffered but request bodies (which are capped).
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rag.api.errors import REQUEST_ID, ApiError, error_response, printable
from rag.config import LOOPBACK_NAMES

access = logging.getLogger("rag.api.access")
log = logging.getLogger("rag.api")
_GOOD_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")  # anything else is replaced, not logged


class RequestContext:
    """Give each request an id (X-Request-ID, echoed or generated), log it, and never leak
    a traceback: an unhandled exception becomes a logged JSON 500 carrying the id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get("x-request-id", "")
        rid = incoming if _GOOD_ID.fullmatch(incoming) else uuid.uuid4().hex
        scope[REQUEST_ID] = rid
        began = time.perf_counter()
        status = 500
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                MutableHeaders(scope=message).append("X-Request-ID", rid)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("request %s: %s %s failed", rid, scope["method"],
                          printable(scope["path"]))
            if started:
                raise
            response = error_response(
                500, "internal_error",
                f"Internal error: the server log has the details under request id {rid}.", rid)
            await response(scope, receive, send_with_id)
        finally:
            client = scope.get("client") or ("-", 0)
            access.info('%s "%s %s" %d %.1f ms request_id=%s', client[0], scope["method"],
                        printable(scope["path"]), status, (time.perf_counter() - began) * 1000,
                        rid)


class BodyLimit:
    """Refuse request bodies over `max_bytes` with a 413, by Content-Length or by counting;
    a POST to /documents (a file, with its multipart framing) may carry `uploads` bytes."""

    def __init__(self, app: ASGIApp, max_bytes: int, uploads: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.uploads = uploads + 64 * 1024

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        upload = scope["method"] == "POST" and scope["path"] == "/documents"
        limit = self.uploads if upload else self.max_bytes
        message = f"The request body is larger than {limit:,} bytes."
        length = Headers(scope=scope).get("content-length", "")
        if length.isdigit() and int(length) > limit:
            response = error_response(413, "payload_too_large", message, scope.get(REQUEST_ID))
            await response(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            part = await receive()
            if part["type"] == "http.request":
                received += len(part.get("body", b""))
                if received > limit:
                    # FastAPI re-raises HTTPExceptions from body reading: the handler formats it.
                    raise ApiError(413, "payload_too_large", message)
            return part

        await self.app(scope, counted, send)


_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class LocalOnly:
    """Without an API key, serve only requests addressed to this machine: the Host must be a
    loopback name (or a configured one), so a page on another site cannot reach the server
    through DNS rebinding; and a request that changes state must not come from a page of
    another origin (a cross-site form POST to /reindex needs no preflight)."""

    def __init__(self, app: ASGIApp, hosts: list[str], origins: list[str]) -> None:
        self.app = app
        self.hosts = {_hostname(h) for h in (*LOOPBACK_NAMES, *hosts)}
        self.origins = {o.lower().rstrip("/") for o in origins}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        problem = None
        authority = headers.get("host", "").strip().lower()
        host = _hostname(authority)
        origin = headers.get("origin")
        # This server's own pages: the same scheme, host and port as the request names.
        own = {f"http://{authority}", f"https://{authority}"}
        if host not in self.hosts:
            problem = (f"Host {printable(host)!r} is not served: without RAG_API_KEY only "
                       "loopback names are; add the name to RAG_ALLOWED_HOSTS or set "
                       "RAG_API_KEY.")
        elif (origin is not None and scope["method"] not in _SAFE_METHODS
              and origin.lower().rstrip("/") not in self.origins | own):
            problem = (f"A request from the page of {printable(origin)!r} may not change "
                       "anything: without RAG_API_KEY only pages of this server may; add the "
                       "origin to RAG_CORS_ORIGINS or set RAG_API_KEY.")
        if problem is None:
            await self.app(scope, receive, send)
            return
        log.warning("refused %s %s: %s", scope["method"], printable(scope["path"]), problem)
        response = error_response(403, "forbidden", problem, scope.get(REQUEST_ID))
        await response(scope, receive, send)


def _hostname(authority: str) -> str:
    """The host of "host:port", "[::1]:8000" or "host", lower case, without the port."""
    authority = authority.strip().lower()
    if authority.startswith("["):
        return authority[1 : authority.find("]")] if "]" in authority else authority
    return authority.rsplit(":", 1)[0] if authority.count(":") == 1 else authority
