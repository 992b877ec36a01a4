"""The app factory: settings in, a FastAPI app out; the model and index load in `lifespan`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version
from typing import Any

import anyio.to_thread
from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from starlette.middleware.cors import CORSMiddleware

from rag.api import (
    errors,
    routes_ask,
    routes_documents,
    routes_health,
    routes_openai,
    routes_search,
    routes_web,
)
from rag.api.middleware import BodyLimit, LocalOnly, RequestContext
from rag.api.openai_models import stream_openapi
from rag.api.schemas import MAX_BODY_BYTES, MAX_UPLOAD_BYTES
from rag.api.service import Service
from rag.config import Settings
from rag.embed import Encoder
from rag.pipeline import Pipeline
from rag.reader.onnx_reader import Reader

DESCRIPTION = """Extractive question answering over a folder of documents, with exact citations:
every `start`/`end` is a character offset into the text of `GET /documents/{doc_id}`.

Errors have one shape: `{"error": {"type", "message", "param", "request_id"}}`. With
`RAG_API_KEY` set, every endpoint but `/health` and these docs needs
`Authorization: Bearer <key>`."""


def create_app(settings: Settings, pipeline: Pipeline | None = None, *,
               encoder: Encoder | None = None, reader: Reader | None = None,
               problem: str | None = None) -> FastAPI:
    """The HTTP API over `pipeline`, or over the index in settings.index_dir loaded at startup
    (reusing `encoder` and `reader` when given). `problem`: why the last build indexed
    nothing, told by /health when there is no index to serve."""
    service = Service(settings, pipeline, encoder, reader, problem)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if service.pipeline is None:
            await anyio.to_thread.run_sync(service.load)
        yield

    # /docs and /redoc with Swagger UI's and ReDoc's files from the fastapi-offline package,
    # not a CDN: they render on a machine without internet.
    app = FastAPIOffline(title="rag", version=version("rag"), description=DESCRIPTION,
                         lifespan=lifespan, static_url="/static-docs")
    app.state.service = service
    errors.install(app)
    for module in (routes_ask, routes_search, routes_documents, routes_openai, routes_health,
                   routes_web):
        app.include_router(module.router)
    # Added innermost first: RequestContext wraps everything, so even a 413 or a CORS
    # preflight gets a request id and an access log line.
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES, uploads=MAX_UPLOAD_BYTES)
    if not settings.api_key:
        app.add_middleware(LocalOnly, hosts=settings.allowed_hosts,
                           origins=settings.cors_origins)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins,
                           allow_methods=["GET", "POST", "DELETE"],
                           allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
                           expose_headers=["X-Request-ID"])
    app.add_middleware(RequestContext)
    _complete_openapi(app, optional_key=not settings.api_key)
    return app


def _complete_openapi(app: FastAPI, optional_key: bool) -> None:
    """Add what FastAPI cannot infer: the schema of each streamed event, and (without
    RAG_API_KEY) that the bearer token is optional, so clients and fuzzers are not misled."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            stream = schema["paths"]["/v1/chat/completions"]["post"]["responses"]["200"]
            stream["content"]["text/event-stream"]["schema"] = stream_openapi(components)
            for path in schema["paths"].values():
                for operation in path.values():
                    if optional_key and operation.get("security"):
                        operation["security"] = [{}, *operation["security"]]
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]
