"""Typed records shared by every stage: documents, chunks, hits and answers.

Offsets (`start`, `end`) are always character offsets into `Document.text`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open character range [start, end) in one document."""

    start: int
    end: int


@dataclass(frozen=True, slots=True)
class AnswerSpan:
    """A span the reader proposes in one window: `document.text[start:end]`.

    `score` is the span's start plus end logit and `no_answer` its window's [CLS] score;
    `probability` is the span's share of the window's start and end distributions.
    """

    doc_id: str
    start: int
    end: int
    score: float
    no_answer: float
    probability: float
    window: int  # index of the window it was read in

    @property
    def margin(self) -> float:
        """How far the span beats "no answer" in its window (the ranking key)."""
        return self.score - self.no_answer


@dataclass(frozen=True, slots=True)
class Document:
    """One source file as stored in the index: the text every offset points into."""

    doc_id: str
    title: str
    text: str
    sha256: str
    # Start offset of each pdf page in `text` (page 1 first); empty for other formats.
    page_starts: tuple[int, ...] = ()

    def page_at(self, offset: int) -> int | None:
        """The 1-based pdf page that holds `offset`, or None for non-pdf documents."""
        if not self.page_starts:
            return None
        page = 0
        for i, start in enumerate(self.page_starts):
            if start <= offset:
                page = i
            else:
                break
        return page + 1


@dataclass(frozen=True, slots=True)
class Chunk:
    """A retrievable passage: `text == document.text[start:end]`."""

    chunk_id: int
    doc_id: str
    start: int
    end: int
    text: str
    page: int | None = None
    # Indexes into the document's sentence list of the sentences this chunk overlaps.
    sentence_ids: tuple[int, ...] = field(default=())


class Passage(BaseModel):
    """A retrieved chunk with its score (higher is better)."""

    model_config = ConfigDict(frozen=True)

    doc_id: str
    chunk_id: int
    start: int
    end: int
    text: str
    page: int | None = None
    score: float


class Citation(BaseModel):
    """Where an answer comes from: `document_text[start:end] == text`."""

    model_config = ConfigDict(frozen=True)

    doc_id: str
    start: int
    end: int
    text: str
    sentence: str
    sentence_start: int
    sentence_end: int
    passage: str
    passage_start: int
    passage_end: int
    chunk_id: int
    page: int | None = None
    score: float


class Alternative(BaseModel):
    """A next-best distinct answer."""

    model_config = ConfigDict(frozen=True)

    answer: str
    confidence: float = Field(ge=0.0, le=1.0)
    citations: list[Citation]


class Answer(BaseModel):
    """The result of one question: a verbatim answer with citations, or an abstention."""

    model_config = ConfigDict(frozen=True)

    question: str
    answer: str | None
    confidence: float = Field(ge=0.0, le=1.0)
    citations: list[Citation] = []
    passages: list[Passage] = []
    alternatives: list[Alternative] = []
    standalone_question: str | None = None  # the question searched, for follow-ups
    timings: dict[str, float] = {}

    @property
    def guess(self) -> str | None:
        """The answer, or when abstaining the best candidate that was held back."""
        if self.answer is not None:
            return self.answer
        return self.alternatives[0].answer if self.alternatives else None
