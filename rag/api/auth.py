"""The optional API key (RAG_API_KEY) and who may trigger a reindex."""

from __future__ import annotations

import hmac
import ipaddress
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from rag.api.errors import ApiError
from rag.api.service import ServiceDep

_bearer = HTTPBearer(auto_error=False, description="RAG_API_KEY, when the server has one.")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


async def require_key(service: ServiceDep, credentials: Credentials) -> None:
    """With an API key set, demand `Authorization: Bearer <key>`; without one, let all in."""
    refusal = _refusal(service.settings.api_key, credentials.credentials if credentials else "")
    if refusal is not None:
        raise refusal


def key_refusal(request: Request) -> ApiError | None:
    """The 401 of a request to a guarded route without the key. FastAPI reads the body
    before it runs dependencies; its validation errors ask this first, so a caller without
    the key learns nothing about what the body should be."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None or not any(d.call is require_key for d in dependant.dependencies):
        return None
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return _refusal(request.app.state.service.settings.api_key,
                    token.strip() if scheme.lower() == "bearer" else "")


def _refusal(key: str | None, given: str) -> ApiError | None:
    # Bytes, so a non-ASCII header cannot make compare_digest raise.
    if not key or hmac.compare_digest(given.encode("utf-8"), key.encode("utf-8")):
        return None
    return ApiError(401, "unauthorized",
                    "Missing or wrong API key: send `Authorization: Bearer <RAG_API_KEY>`.",
                    headers={"WWW-Authenticate": "Bearer"})


async def require_reindex_right(request: Request, service: ServiceDep) -> None:
    """Changing the index or the documents (POST /reindex, POST and DELETE /documents) needs
    the API key when one is set (checked by require_key); else a local client."""
    if service.settings.api_key:
        return
    host = request.client.host if request.client else ""
    try:
        local = ipaddress.ip_address(host).is_loopback
    except ValueError:
        local = False
    # A configured proxy's own address means it sent no X-Forwarded-For: the client is unknown.
    local = local and host not in service.settings.trusted_proxies
    if not local:
        raise ApiError(403, "forbidden", f"{request.method} {request.url.path} is allowed only "
                       "from 127.0.0.1 when no RAG_API_KEY is set.")
