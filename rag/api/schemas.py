"""Request and response bodies of the HTTP API (answers use the records of rag.records)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)
from pydantic.config import JsonDict

from rag.records import Passage

MAX_QUESTION_CHARS = 2000
MAX_K = 50
MAX_MESSAGES = 200
MAX_MESSAGE_CHARS = 20_000  # assistant and system turns; user turns are questions
MAX_BODY_BYTES = 1024 * 1024
MAX_UPLOAD_BYTES = 32 * 1024 * 1024  # POST /documents: a document, not a question
MAX_PAGE = 1000


def valid_text(text: str) -> str:
    """Refuse text that cannot be encoded as UTF-8 (lone surrogates, legal in JSON)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("holds a lone surrogate (\\ud800-\\udfff): not valid Unicode") from exc
    return text


def question_text(text: str) -> str:
    """A question: valid Unicode, not blank, at most MAX_QUESTION_CHARS characters."""
    valid_text(text)
    if not _NOT_BLANK.search(text):
        raise ValueError("must not be blank")
    if len(text) > MAX_QUESTION_CHARS:
        raise ValueError(f"must have at most {MAX_QUESTION_CHARS} characters, not {len(text)}")
    return text


Question = Annotated[str, AfterValidator(question_text)]
# Not blank: one character that shows. Not white space, control characters (NUL...),
# zero-width and other invisible format characters, or noncharacters. Spelled out, not \S,
# because Python, Rust (pydantic) and ECMAScript (JSON Schema) disagree on what \s covers;
# in the schema too, so generated clients and fuzzers know blank is refused.
NOT_BLANK = (r"[^\x00-\x20\x7f-\xa0\xad\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u206f"
             r"\u3000\ufdd0-\ufdef\ufeff\ufffe\uffff]")
_NOT_BLANK = re.compile(NOT_BLANK)


def whole_number(value: object) -> object:
    """11.0 is the integer 11 in JSON Schema; other floats stay floats and are refused."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


K = Annotated[int, Field(ge=1, le=MAX_K, strict=True,
                         description=f"How many passages (1-{MAX_K})."),
              BeforeValidator(whole_number)]
# JSON Schema's `contains`: the rule "at least one user message", visible to clients.
HAS_USER_TURN: JsonDict = {"contains": {"type": "object", "properties": {"role": {"const": "user"}},
                              "required": ["role"]}}
_STRICT = ConfigDict(extra="forbid", strict=True)


def require_user_turn(roles: Iterable[str]) -> None:
    """The rule behind HAS_USER_TURN, for the validators of both chat request bodies."""
    if "user" not in roles:
        raise ValueError("messages must contain at least one user message")



def _text_field(description: str) -> Any:
    """The constraints every question-like text shares: 1 to MAX_QUESTION_CHARS, not blank."""
    return Field(min_length=1, max_length=MAX_QUESTION_CHARS, pattern=NOT_BLANK,
                 description=description)

class AskRequest(BaseModel):
    """POST /ask."""

    model_config = ConfigDict(**_STRICT, json_schema_extra={
        "examples": [{"question": "When was the Eiffel Tower completed?", "k": 5}]})

    question: Question = _text_field(f"The question, 1-{MAX_QUESTION_CHARS} characters, not blank.")
    k: K = 5


class SearchRequest(BaseModel):
    """POST /search."""

    model_config = _STRICT

    query: Question = _text_field(
        f"Words to search for, 1-{MAX_QUESTION_CHARS} characters, not blank.")
    k: K = 5


class UserTurn(BaseModel):
    """A user message: a question."""

    model_config = _STRICT

    role: Literal["user"]
    content: Question = _text_field(f"The question, 1-{MAX_QUESTION_CHARS} characters, not blank.")


class AssistantTurn(BaseModel):
    """An earlier answer."""

    model_config = _STRICT

    role: Literal["assistant"]
    content: Annotated[str, AfterValidator(valid_text)] = Field(
        max_length=MAX_MESSAGE_CHARS, description="What the assistant answered.")


ChatMessage = Annotated[UserTurn | AssistantTurn, Field(discriminator="role")]


class ChatRequest(BaseModel):
    """POST /chat: answer the last user message in the context of the conversation."""

    model_config = ConfigDict(**_STRICT, json_schema_extra={"examples": [{"messages": [
        {"role": "user", "content": "When did the Golden Gate Bridge open?"},
        {"role": "assistant", "content": "1937"},
        {"role": "user", "content": "Who was its chief engineer?"}], "k": 5}]})

    messages: list[ChatMessage] = Field(
        min_length=1, max_length=MAX_MESSAGES,
        description="The conversation, oldest first: user and assistant turns, at least one "
                    "user turn.", json_schema_extra=HAS_USER_TURN)
    k: K = 5

    @model_validator(mode="after")
    def _has_question(self) -> ChatRequest:
        require_user_turn(m.role for m in self.messages)
        return self


class SearchResponse(BaseModel):
    """The k best passages for a query, best first."""

    passages: list[Passage] = Field(description="Retrieved passages, highest score first.")


class DocumentSummary(BaseModel):
    """One indexed document, without its text."""

    doc_id: str = Field(description="Path of the file relative to the documents folder.")
    title: str = Field(description="Markdown heading, HTML <title>, or file name.")
    sha256: str = Field(description="Hex sha256 of the file's bytes.")
    characters: int = Field(description="Length of the stored text.")
    chunks: int = Field(description="Number of retrievable passages.")
    pages: int | None = Field(description="Number of pdf pages; null for other formats.")


class DocumentList(BaseModel):
    """One page of the indexed documents, in order of their ids."""

    documents: list[DocumentSummary]
    next_cursor: str | None = Field(default=None, description="Pass as `cursor` for the next "
                                    "page; null on the last one.")


class DocumentDetail(DocumentSummary):
    """One document with the stored text every start/end offset points into."""

    text: str = Field(description="The stored text: citations satisfy text[start:end].")
    page_starts: list[int] = Field(description="Offset where each pdf page starts in text.")


class Health(BaseModel):
    """Whether the service can answer, and what it serves."""

    ready: bool = Field(description="True when an index is loaded and questions are answered.")
    documents: int = Field(description="Documents in the loaded index.")
    chunks: int = Field(description="Passages in the loaded index.")
    model: str = Field(description="Embedding model the index was built with.")
    index_built_at: str | None = Field(description="When the loaded index was built.")
    reindexing: bool = Field(description="True while POST /reindex is building.")
    reason: str | None = Field(default=None, description="Why the service is not ready.")


class SkippedFile(BaseModel):
    """A file the build could not index."""

    doc_id: str
    reason: str


class ReindexReport(BaseModel):
    """What POST /reindex changed."""

    added: list[str] = Field(description="New documents.")
    changed: list[str] = Field(description="Documents whose bytes changed.")
    removed: list[str] = Field(description="Documents no longer in the folder.")
    unchanged: int = Field(description="Documents left as they were.")
    skipped: list[SkippedFile] = Field(description="Files that could not be read.")
    chunks_embedded: int = Field(description="Passages embedded by this build.")
    chunks_total: int = Field(description="Passages in the index now.")
    seconds: float = Field(description="Build time.")
    full_rebuild_reason: str = Field(description="Why everything was re-embedded, if it was.")
    reloaded: bool = Field(description="True when a new index was swapped in.")


class ErrorDetail(BaseModel):
    """What went wrong."""

    type: str = Field(description="Machine-readable kind, e.g. invalid_request, not_found.")
    message: str = Field(description="What was wrong and what to do about it.")
    param: str | None = Field(default=None, description="The offending field, when one is.")
    request_id: str | None = Field(default=None, description="X-Request-ID of the request.")


class ErrorResponse(BaseModel):
    """The body of every 4xx and 5xx response."""

    error: ErrorDetail


ERRORS: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorResponse, "description": text} for status, text in {
        400: "Body is not valid JSON", 401: "Missing or wrong API key",
        404: "Not found", 413: "Body over 1 MiB", 415: "Body is not JSON",
        422: "Invalid request", 503: "No index loaded"}.items()
}
