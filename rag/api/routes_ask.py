"""POST /ask and POST /chat: cited answers.

The pipeline is CPU-bound synchronous code, so async endpoints hand it to Starlette's
thread pool (run_in_threadpool, anyio's 40-thread limiter). The event loop stays free for
other requests, /health and streaming, and a slow question never stalls the others. Plain
`def` endpoints would do the same implicitly; the explicit call keeps the dependency
resolution (which pipeline serves this request) on the loop and visible in the code.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from starlette.concurrency import run_in_threadpool

from rag.api.auth import require_key
from rag.api.schemas import ERRORS, AskRequest, ChatRequest
from rag.api.service import PipelineDep
from rag.followup import Turn
from rag.records import Answer

router = APIRouter(tags=["answers"], dependencies=[Depends(require_key)], responses=ERRORS)


@router.post("/ask", response_model=Answer, summary="Answer a question with citations")
async def ask(body: AskRequest, pipeline: PipelineDep) -> Answer:
    """A verbatim answer with citations into GET /documents/{doc_id} text, or
    `answer: null` when the documents do not say (the closest passages still come back)."""
    return await run_in_threadpool(pipeline.ask, body.question, body.k)


@router.post("/chat", response_model=Answer, summary="Answer the last user message of a chat")
async def chat(body: ChatRequest, pipeline: PipelineDep) -> Answer:
    """Answer the last user message in the context of the conversation; follow-ups are
    completed from earlier turns, and the question searched is `standalone_question`."""
    turns = [Turn(m.role, m.content) for m in body.messages]
    return await run_in_threadpool(pipeline.chat, turns, body.k)
