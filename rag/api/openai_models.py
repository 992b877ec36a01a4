"""Bodies of the OpenAI-compatible endpoints (Chat Completions and Models)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rag.api.schemas import (
    HAS_USER_TURN,
    MAX_MESSAGE_CHARS,
    MAX_MESSAGES,
    MAX_QUESTION_CHARS,
    NOT_BLANK,
    K,
    question_text,
    require_user_turn,
    valid_text,
)
from rag.records import Citation, Passage

_STRICT = ConfigDict(strict=True)  # exact JSON types; unknown OpenAI fields are ignored


class ContentPart(BaseModel):
    """One part of a multi-part system or assistant message; only text parts are read."""

    model_config = _STRICT

    type: str = Field(description='"text" parts are read; other kinds are ignored.')
    text: str | None = Field(default=None, max_length=MAX_MESSAGE_CHARS)


class TextPart(BaseModel):
    """One text part of a user message."""

    model_config = _STRICT

    type: Literal["text"] = Field(description="Only text: this service reads no images.")
    text: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS, pattern=NOT_BLANK,
                      description=f"Not blank; the parts together at most "
                                  f"{MAX_QUESTION_CHARS} characters.")


def _joined(content: str | Sequence[ContentPart | TextPart] | None) -> str:
    if isinstance(content, str) or content is None:
        return content or ""
    return "\n".join(p.text for p in content if p.type == "text" and p.text)


class UserMessage(BaseModel):
    """A question: text, or text parts, 1-2000 characters in all, not blank."""

    model_config = _STRICT

    role: Literal["user"]
    content: Annotated[str, Field(min_length=1, max_length=MAX_QUESTION_CHARS,
                                  pattern=NOT_BLANK)] | Annotated[
        list[TextPart], Field(min_length=1)] = Field(
        description=f"The question, 1-{MAX_QUESTION_CHARS} characters, not blank.")

    @property
    def text(self) -> str:
        """The question's text, with parts joined."""
        return _joined(self.content)

    @model_validator(mode="after")
    def _check(self) -> UserMessage:
        question_text(self.text)
        return self


class OtherMessage(BaseModel):
    """A system, developer or assistant message; system and developer ones are ignored."""

    model_config = _STRICT

    role: Literal["system", "developer", "assistant"]
    content: str | list[ContentPart] | None = Field(
        default=None, description=f"Text or parts, at most {MAX_MESSAGE_CHARS} characters.")

    @property
    def text(self) -> str:
        """The message's text, with parts joined."""
        return _joined(self.content)

    @model_validator(mode="after")
    def _check(self) -> OtherMessage:
        if len(valid_text(self.text)) > MAX_MESSAGE_CHARS:
            raise ValueError(f"content must have at most {MAX_MESSAGE_CHARS} characters")
        return self


Message = Annotated[UserMessage | OtherMessage, Field(discriminator="role")]


class StreamOptions(BaseModel):
    """Options of a streamed completion."""

    model_config = _STRICT

    include_usage: bool = Field(default=False, description="Send a last chunk with usage.")


class ChatCompletionRequest(BaseModel):
    """POST /v1/chat/completions. Parameters that would change what comes back and that this
    service cannot honour (`n` > 1, tools, functions) are refused; sampling parameters
    (temperature, top_p, max_tokens...) are accepted and ignored: an extract has none."""

    model_config = ConfigDict(extra="ignore", strict=True, json_schema_extra={"examples": [{
        "model": "rag", "messages": [
            {"role": "user", "content": "When was the Eiffel Tower completed?"}]}]})

    model: str = Field(default="rag", max_length=256,
                       description='The id GET /v1/models lists, or "rag".')
    messages: list[Message] = Field(
        min_length=1, max_length=MAX_MESSAGES, json_schema_extra=HAS_USER_TURN,
        description="The conversation, oldest first, with at least one user message.")
    stream: bool = Field(default=False, description="Server-sent chat.completion.chunk events.")
    stream_options: StreamOptions | None = None
    k: K = 5
    n: Literal[1] | None = Field(default=None, description="1 only: one extract comes back.")
    tools: Annotated[list[Any], Field(max_length=0)] | None = Field(
        default=None, description="Refused unless empty: the service calls no tools.")
    functions: Annotated[list[Any], Field(max_length=0)] | None = Field(
        default=None, description="Refused unless empty: the service calls no functions.")

    @model_validator(mode="after")
    def _has_question(self) -> ChatCompletionRequest:
        require_user_turn(m.role for m in self.messages)
        return self


class AssistantMessage(BaseModel):
    """The answer, with numbered source markers and the structured citations."""

    role: Literal["assistant"] = "assistant"
    content: str
    citations: list[Citation] = Field(description="Where the answer comes from (extension).")


class Choice(BaseModel):
    """The one completion."""

    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop"] = "stop"
    logprobs: None = None


class Usage(BaseModel):
    """Word counts standing in for token counts."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(BaseModel):
    """An OpenAI chat.completion with extensions: citations, passages, confidence."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    citations: list[Citation] = Field(description="Citations of the answer; empty if none.")
    passages: list[Passage] = Field(description="The closest passages (the sources when "
                                                "the documents do not say).")
    confidence: float = Field(description="Probability that the answer is right.")
    standalone_question: str | None = Field(description="The question that was searched.")


class ModelCard(BaseModel):
    """The served collection, as an OpenAI model."""

    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "rag"


class ModelList(BaseModel):
    """GET /v1/models: one model, the served collection."""

    object: Literal["list"] = "list"
    data: list[ModelCard]


class ChunkDelta(BaseModel):
    """What a streamed chunk adds to the message."""

    role: Literal["assistant"] | None = None
    content: str | None = None


class ChunkChoice(BaseModel):
    """The one choice of a streamed chunk."""

    index: int = 0
    delta: ChunkDelta
    finish_reason: Literal["stop"] | None = None
    logprobs: None = None


class ChatCompletionChunk(BaseModel):
    """One server-sent event of a streamed completion. The first carries the extensions
    (citations, passages, confidence, standalone_question); with include_usage the last
    has no choices and the usage."""

    id: str
    object: Literal["chat.completion.chunk"]
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: Usage | None = None
    citations: list[Citation] | None = None
    passages: list[Passage] | None = None
    confidence: float | None = None
    standalone_question: str | None = None


def stream_openapi(components: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI schema of one SSE event (data: a chunk, or [DONE] last); adds the chunk
    models to `components`."""
    schema = ChatCompletionChunk.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, definition in schema.pop("$defs", {}).items():
        components.setdefault(name, definition)
    components.setdefault("ChatCompletionChunk", schema)
    return {"type": "object", "required": ["data"], "properties": {"data": {"anyOf": [
        {"const": "[DONE]"},
        {"type": "string", "contentMediaType": "application/json",
         "contentSchema": {"$ref": "#/components/schemas/ChatCompletionChunk"}},
    ]}}}
