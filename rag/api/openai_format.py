"""Answers as OpenAI chat messages: numbered source markers, a sources list, SSE chunks."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from rag.api.openai_models import (
    AssistantMessage,
    ChatCompletion,
    ChatCompletionRequest,
    Choice,
    Usage,
)
from rag.config import Settings
from rag.followup import Turn
from rag.records import Answer

ABSTAIN = "The documents do not say."
SOURCES = "\n\nSources:\n"
MAX_SOURCES = 3  # closest passages listed when abstaining
_MARKERS = re.compile(r"(\s*\[\d+\])+\s*$")
_PIECES = re.compile(r"\S+\s*|\s+")  # joined, the pieces are the text again


def model_id(settings: Settings) -> str:
    """The one model /v1/models lists: "rag-" and the documents folder's name."""
    name = settings.docs_dir.resolve().name
    return f"rag-{name}" if name else "rag"


def render(answer: Answer) -> str:
    """'answer [1]' and a sources list, or the abstention with the closest passages."""
    if answer.answer is not None:
        spans = [(c.doc_id, c.start, c.end, c.page) for c in answer.citations]
        markers = "".join(f"[{n}]" for n in range(1, len(spans) + 1))
        head = f"{answer.answer} {markers}" if markers else answer.answer
    else:
        spans = [(p.doc_id, p.start, p.end, p.page) for p in answer.passages[:MAX_SOURCES]]
        head = ABSTAIN
    if not spans:
        return head
    lines = [
        f"[{n}] {doc_id}, characters {start}–{end}" + (f", page {page}" if page else "")
        for n, (doc_id, start, end, page) in enumerate(spans, 1)
    ]
    return head + SOURCES + "\n".join(lines)


def turns(request: ChatCompletionRequest) -> list[Turn]:
    """The user and assistant turns, with our own markers and sources lists taken off
    the assistant's, so the follow-up logic sees only the answers."""
    out = []
    for message in request.messages:
        if message.role == "user":
            out.append(Turn("user", message.text))
        elif message.role == "assistant":
            text = _MARKERS.sub("", message.text.split(SOURCES, 1)[0]).strip()
            out.append(Turn("assistant", "" if text == ABSTAIN else text))
    return out


def completion(answer: Answer, request: ChatCompletionRequest, model: str,
               completion_id: str, created: int) -> ChatCompletion:
    """The chat.completion object for one answer."""
    content = render(answer)
    prompt = sum(len(m.text.split()) for m in request.messages)
    usage = Usage(prompt_tokens=prompt, completion_tokens=len(content.split()),
                  total_tokens=prompt + len(content.split()))
    message = AssistantMessage(content=content, citations=answer.citations)
    return ChatCompletion(
        id=completion_id, created=created, model=model, choices=[Choice(message=message)],
        usage=usage, citations=answer.citations, passages=answer.passages,
        confidence=answer.confidence, standalone_question=answer.standalone_question,
    )


def stream(done: ChatCompletion, include_usage: bool) -> Iterator[str]:
    """Server-sent events: a role chunk carrying the citations, passages and confidence,
    the content word by word, a finish chunk, optionally usage, then [DONE]."""
    extras = {"citations": [c.model_dump() for c in done.citations],
              "passages": [p.model_dump() for p in done.passages],
              "confidence": done.confidence, "standalone_question": done.standalone_question}
    yield _event(done, {"role": "assistant", "content": ""}, None, extras)
    for piece in _PIECES.findall(done.choices[0].message.content):
        yield _event(done, {"content": piece}, None)
    yield _event(done, {}, "stop")
    if include_usage:
        yield _sse({**_head(done), "choices": [], "usage": done.usage.model_dump()})
    yield "data: [DONE]\n\n"


def _head(done: ChatCompletion) -> dict[str, object]:
    return {"id": done.id, "object": "chat.completion.chunk", "created": done.created,
            "model": done.model}


def _event(done: ChatCompletion, delta: dict[str, str], finish: str | None,
           extras: dict[str, object] | None = None) -> str:
    choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
    return _sse({**_head(done), "choices": [choice], **(extras or {})})


def _sse(payload: dict[str, object]) -> str:
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"
