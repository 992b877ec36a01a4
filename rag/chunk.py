"""Split documents into overlapping chunks that keep exact character offsets."""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from langchain_text_splitters import RecursiveCharacterTextSplitter

from rag.records import Chunk, Document, Span

# Paragraphs, then lines, then sentence ends, then words: chunks break where text does.
SEPARATORS = ["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""]


def make_splitter(chunk_size: int, chunk_overlap: int) -> RecursiveCharacterTextSplitter:
    """The recursive splitter with our separators; separators stay at the end of a piece."""
    return RecursiveCharacterTextSplitter(
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        separators=SEPARATORS,
        keep_separator="end",
        strip_whitespace=True,
    )


def locate(text: str, pieces: Sequence[str]) -> list[Span]:
    """Offsets of each piece in `text`, in order; pieces are verbatim, ordered substrings."""
    spans: list[Span] = []
    cursor = 0
    for piece in pieces:
        start = text.find(piece, cursor)
        if start < 0:  # the splitter only ever returns substrings; guard the invariant anyway
            raise ValueError(f"chunk not found in its document: {piece[:60]!r}")
        spans.append(Span(start, start + len(piece)))
        cursor = start + 1
    return spans


def chunk_document(
    document: Document,
    sentences: Sequence[Span],
    splitter: RecursiveCharacterTextSplitter,
    first_id: int,
) -> list[Chunk]:
    """Chunks of one document with ids from `first_id`, each knowing its sentences."""
    text = document.text
    spans = locate(text, splitter.split_text(text))
    sentence_ends = [s.end for s in sentences]
    chunks = []
    for i, span in enumerate(spans):
        # Sentences overlapping [start, end): the first whose end is past start, up to end.
        lo = bisect.bisect_right(sentence_ends, span.start)
        ids = []
        for j in range(lo, len(sentences)):
            if sentences[j].start >= span.end:
                break
            ids.append(j)
        chunks.append(
            Chunk(
                chunk_id=first_id + i,
                doc_id=document.doc_id,
                start=span.start,
                end=span.end,
                text=text[span.start : span.end],
                page=document.page_at(span.start),
                sentence_ids=tuple(ids),
            )
        )
    return chunks
