"""OpenAI-compatible endpoints, so existing chat clients and SDKs work unchanged:
POST /v1/chat/completions (plain or streamed) and GET /v1/models."""

from __future__ import annotations

import time
import uuid
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from rag.api import openai_format
from rag.api.auth import require_key
from rag.api.errors import ApiError
from rag.api.openai_models import ChatCompletion, ChatCompletionRequest, ModelCard, ModelList
from rag.api.schemas import ERRORS
from rag.api.service import PipelineDep, Service, ServiceDep

router = APIRouter(prefix="/v1", tags=["openai"], dependencies=[Depends(require_key)],
                   responses=ERRORS)
_STREAM_DOC: dict[int | str, dict[str, Any]] = {200: {
    "description": "A chat.completion, or with stream: true server-sent chat.completion.chunk "
                   "events ending with `data: [DONE]`.",
    "content": {"text/event-stream": {}}}}  # the event schema is added by stream_openapi


@router.post("/chat/completions", response_model=ChatCompletion, responses=_STREAM_DOC,
             summary="OpenAI Chat Completions")
async def chat_completions(body: ChatCompletionRequest, pipeline: PipelineDep,
                           service: ServiceDep) -> ChatCompletion | StreamingResponse:
    """Answer the last user message in the context of the conversation. The content is the
    answer with numbered source markers and a sources list ("The documents do not say."
    and the closest passages when abstaining); `citations` carries the structured spans."""
    served = openai_format.model_id(service.settings)
    if body.model not in (served, "rag"):
        raise ApiError(404, "not_found", f"No model {body.model!r}: this server serves "
                       f"{served!r} (also called \"rag\"); see GET /v1/models.", param="model")
    # The answer is computed before any byte is sent, so errors are proper JSON responses.
    answer = await run_in_threadpool(pipeline.chat, openai_format.turns(body), body.k)
    done = openai_format.completion(answer, body, openai_format.model_id(service.settings),
                                    f"chatcmpl-{uuid.uuid4().hex}", int(time.time()))
    if not body.stream:
        return done
    include_usage = bool(body.stream_options and body.stream_options.include_usage)
    return StreamingResponse(openai_format.stream(done, include_usage),
                             media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache"})


@router.get("/models", response_model=ModelList, summary="The served collection as a model")
async def list_models(service: ServiceDep) -> ModelList:
    """One model: the served document collection. Completions take its id, or "rag"."""
    return ModelList(data=[_card(service)])


@router.get("/models/{model_id:path}", response_model=ModelCard, summary="One model")
async def get_model(model_id: str, service: ServiceDep) -> ModelCard:
    """The served model when `model_id` is its id; 404 otherwise."""
    card = _card(service)
    if model_id != card.id:
        raise ApiError(404, "not_found", f"No model {model_id!r}: this server serves {card.id!r}.",
                       param="model")
    return card


def _card(service: Service) -> ModelCard:
    pipeline = service.pipeline
    built = pipeline.index.manifest.built_at if pipeline else ""
    return ModelCard(id=openai_format.model_id(service.settings), created=_epoch(built))


def _epoch(stamp: str) -> int:
    try:
        return int(time.mktime(time.strptime(stamp, "%Y-%m-%dT%H:%M:%S%z")))
    except ValueError:
        return 0
