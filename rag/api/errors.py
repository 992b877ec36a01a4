"""Uniform JSON errors: every 4xx and 5xx body is {"error": {"type", "message", ...}}.

ApiError (an HTTPException) is raised by our own code; the handlers below also turn
FastAPI's validation errors, Starlette's HTTP errors and RagError into the same shape.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.routing import Match

from rag.errors import IndexBusyError, IndexWriteError, NothingIndexedError, RagError

log = logging.getLogger("rag.api")
REQUEST_ID = "rag.request_id"  # scope key set by the RequestContext middleware
# Labels pydantic puts in an error's location for union branches: str, list[TextPart], ...
_BRANCH = re.compile(r"str|int|float|bool|none|[\w-]*-[\w-]*(\[.*\])?|\w+\[.*\]")

_KINDS = {
    400: "invalid_json", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
    415: "unsupported_media_type", 422: "invalid_request", 500: "internal_error",
    503: "unavailable", 507: "insufficient_storage",
}


class ApiError(HTTPException):
    """An HTTP error with a machine-readable `kind` and a message that says what to fix."""

    def __init__(self, status: int, kind: str, message: str, param: str | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(status_code=status, detail=message, headers=dict(headers or {}))
        self.kind = kind
        self.param = param


def error_response(status: int, kind: str, message: str, request_id: str | None,
                   param: str | None = None, headers: Mapping[str, str] | None = None,
                   ) -> JSONResponse:
    """The one error body every endpoint returns."""
    body = {"type": kind, "message": message, "param": param, "request_id": request_id}
    return JSONResponse({"error": body}, status_code=status, headers=headers)


def request_id(request: Request) -> str | None:
    """The id the RequestContext middleware gave this request."""
    value = request.scope.get(REQUEST_ID)
    return value if isinstance(value, str) else None


def install(app: FastAPI) -> None:
    """Register the handlers that give every error the uniform shape."""
    app.add_exception_handler(HTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(RagError, _rag_error)  # type: ignore[arg-type]


async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
    kind = exc.kind if isinstance(exc, ApiError) else _KINDS.get(exc.status_code, "http_error")
    param = exc.param if isinstance(exc, ApiError) else None
    message = str(exc.detail)
    if exc.status_code == 404 and not isinstance(exc, ApiError):
        message = f"No such endpoint: {request.method} {request.url.path}"
    headers = exc.headers
    if exc.status_code == 405:
        message = f"Method {request.method} is not allowed on {request.url.path}"
        headers = {"Allow": _allowed(request)}
    _log_client_error(request, exc.status_code, message)
    return error_response(exc.status_code, kind, message, request_id(request), param,
                          headers)


def _allowed(request: Request) -> str:
    """Every documented method of the path: Starlette names only the first route's (GET
    /documents and POST /documents are two routes)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        if getattr(route, "include_in_schema", False) and \
                route.matches(request.scope)[0] is not Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return ", ".join(sorted(methods))


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    from rag.api.auth import key_refusal  # auth raises ApiError from here: import at call

    refusal = key_refusal(request)
    if refusal is not None:
        return await _http_error(request, refusal)
    errors = list(exc.errors())
    status, kind, message, param = describe_validation(errors, request.headers.get("content-type"))
    _log_client_error(request, status, message)
    return error_response(status, kind, message, request_id(request), param)


# A build another writer holds, or a folder with nothing to index, is the client's to retry
# or fix (409); a full disk is the server's (507); anything else: no index to serve (503).
_STATUS: dict[type[RagError], tuple[int, str]] = {
    IndexBusyError: (409, "conflict"), NothingIndexedError: (409, "conflict"),
    IndexWriteError: (507, "insufficient_storage")}


async def _rag_error(request: Request, exc: RagError) -> JSONResponse:
    log.error("request %s: %s", request_id(request), exc)
    status, kind = _STATUS.get(type(exc), (503, "unavailable"))
    message = request.app.state.service.public(str(exc))  # folders by name, never full paths
    return error_response(status, kind, message, request_id(request))


def describe_validation(errors: Sequence[Mapping[str, Any]], content_type: str | None,
                        ) -> tuple[int, str, str, str | None]:
    """(status, kind, message, param) for FastAPI's list of validation errors."""
    if any(e.get("type") == "json_invalid" for e in errors):
        reason = next(e.get("ctx", {}).get("error", "") for e in errors
                      if e.get("type") == "json_invalid")
        return 400, "invalid_json", f"The request body is not valid JSON ({reason}).", None
    first = errors[0] if errors else {}
    loc = _where(first)
    if not loc and first.get("type") in ("model_attributes_type", "dict_type", "missing"):
        if content_type and "json" not in content_type:
            return (415, "unsupported_media_type",
                    f"Send a JSON object with Content-Type: application/json, not {content_type}.",
                    None)
        what = "is missing" if first.get("type") == "missing" else "must be a JSON object"
        return 422, "invalid_request", f"The request body {what}.", None
    parts = []
    for error in errors[:5]:
        where = ".".join(_where(error))
        text = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        if error.get("type") == "string_pattern_mismatch":  # our only pattern is NOT_BLANK
            text = "must not be blank"
        elif error.get("type") == "union_tag_not_found":
            text = f"missing {error.get('ctx', {}).get('discriminator', 'role')}"
        parts.append(f"{where}: {text}" if where else text)
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return 422, "invalid_request", "; ".join(parts) + more, ".".join(loc) or None


def _where(error: Mapping[str, Any]) -> list[str]:
    """The field path of an error, without "body" and pydantic's union branch labels."""
    return [str(p) for p in error.get("loc", ())
            if p != "body" and not _BRANCH.fullmatch(str(p))]


def printable(text: str) -> str:
    """`text` with control characters escaped, so a log line stays one line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _log_client_error(request: Request, status: int, message: str) -> None:
    log.info("request %s: %d %s", request_id(request), status, printable(message))
