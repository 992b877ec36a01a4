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
    """Refuse request bodies over `max_bytes` with a 413, by Content-Length or by counting."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = Headers(scope=scope).get("content-length", "")
        if length.isdigit() and int(length) > self.max_bytes:
            response = error_response(413, "payload_too_large", self._message(),
                                      scope.get(REQUEST_ID))
            await response(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # FastAPI re-raises HTTPExceptions from body reading: the handler formats it.
                    raise ApiError(413, "payload_too_large", self._message())
            return message

        await self.app(scope, counted, send)

    def _message(self) -> str:
        return f"The request body is larger than {self.max_bytes:,} bytes."
