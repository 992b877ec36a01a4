"""POST /search: retrieval only, the same passage records as /ask."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from starlette.concurrency import run_in_threadpool

from rag.api.auth import require_key
from rag.api.schemas import ERRORS, SearchRequest, SearchResponse
from rag.api.service import PipelineDep

router = APIRouter(tags=["search"], dependencies=[Depends(require_key)], responses=ERRORS)


@router.post("/search", response_model=SearchResponse, summary="Retrieve passages")
async def search(body: SearchRequest, pipeline: PipelineDep) -> SearchResponse:
    """The k passages that best match the query (hybrid dense + BM25), best first."""
    passages = await run_in_threadpool(pipeline.search, body.query, body.k)
    return SearchResponse(passages=passages)
