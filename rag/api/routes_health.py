"""GET /health (always open) and POST /reindex (guarded, one build at a time)."""

from __future__ import annotations

import anyio.to_thread
from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from rag.api.auth import require_key, require_reindex_right
from rag.api.errors import ApiError
from rag.api.schemas import ERRORS, Health, ReindexReport
from rag.api.service import ServiceDep

router = APIRouter(tags=["service"])


@router.head("/health", include_in_schema=False)  # monitors check with HEAD
@router.get("/health", response_model=Health, summary="Readiness and what is served",
            responses={503: {"model": Health, "description": "No index loaded"}})
async def health(service: ServiceDep) -> JSONResponse:
    """200 with the index's counts when ready; 503 with the same fields and a reason when not."""
    pipeline = service.pipeline
    manifest = pipeline.index.manifest if pipeline else None
    body = Health(
        ready=pipeline is not None,
        documents=len(pipeline.index.documents) if pipeline else 0,
        chunks=len(pipeline.index.chunks) if pipeline else 0,
        model=manifest.model_name if manifest else service.settings.model_name,
        index_built_at=manifest.built_at if manifest else None,
        reindexing=service.build_lock.locked(),
        reason=None if pipeline else service.public(service.reason),
    )
    return JSONResponse(body.model_dump(), status_code=200 if pipeline else 503)


@router.post("/reindex", response_model=ReindexReport, summary="Re-index changed documents",
             dependencies=[Depends(require_key), Depends(require_reindex_right)],
             responses={**ERRORS, 403: ERRORS[401] | {"description": "Not a local client"},
                        409: ERRORS[401] | {"description": "A build is already running"}})
async def reindex(service: ServiceDep) -> ReindexReport:
    """Embed new and changed documents of the documents folder, then swap the new index in
    atomically; requests in flight finish on the old one. A second caller while a build
    runs gets 409. With RAG_API_KEY set this needs the key; without one, a 127.0.0.1 client."""
    if not service.build_lock.acquire(blocking=False):
        raise ApiError(409, "conflict", "A reindex is already running: try again when it ends.")
    try:
        # The worker thread runs to the end even if the client goes away; the lock waits for it.
        return await anyio.to_thread.run_sync(service.reindex)
    finally:
        service.build_lock.release()
