"""Split documents into overlapping chunks that keep exact character offsets."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rag.records import Chunk, Document, Span

if TYPE_CHECKING:
    from langchain_text_splitters import RecursiveCharacterTextSplitter

# Paragraphs, then lines, then sentence ends, then words: chunks break where text does.
SEPARATORS = ["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""]


def make_splitter(chunk_size: int, chunk_overlap: int) -> RecursiveCharacterTextSplitter:
    """The recursive splitter with our separators; separators stay at the end of a piece."""
    # Imported here: langchain takes about a tenth of a second to import, and `rag serve`
    # over an unchanged index never splits a document.
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    return RecursiveCharacterTextSplitter(
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        separators=SEPARATORS,
        keep_separator="end",
        strip_whitespace=True,
    )


def locate(text: str, pieces: Sequence[str], overlap: int | None = None) -> list[Span]:
    """Offsets of each piece in `text`, in order; pieces are verbatim, ordered substrings.

    Searching only where the splitter can have put a piece (see `_candidates`), and going
    back when a later piece then fits nowhere, keeps a repeated passage (a page header, a
    sentence said twice) from being placed at another copy of itself.
    """
    starts: list[int] = []
    options: list[list[int]] = []
    failed: set[tuple[int, int]] = set()  # (piece, start) that leave a later piece nowhere
    while len(starts) < len(pieces):
        i = len(starts)
        if len(options) == i:
            prev = Span(starts[-1], starts[-1] + len(pieces[i - 1])) if starts else None
            found = _candidates(text, pieces[i], prev, overlap)
            options.append([p for p in found if (i, p) not in failed])
        if options[i]:
            starts.append(options[i].pop(0))
            continue
        options.pop()
        if not starts:  # the splitter only returns substrings; guard the invariant anyway
            raise ValueError(f"chunk not found in its document: {pieces[i][:60]!r}")
        failed.add((i - 1, starts.pop()))
    return [Span(start, start + len(piece)) for start, piece in zip(starts, pieces, strict=True)]


def _candidates(text: str, piece: str, prev: Span | None, overlap: int | None) -> list[int]:
    """Where `piece` may start after `prev`, the likeliest first.

    A piece starts no earlier than the one before it and ends later, overlaps it by at most
    `overlap` characters, and only white space lies between them; rarely it just repeats
    the tail of the piece before it.
    """
    start, end = (prev.start, prev.end) if prev else (0, 0)
    low = max(start, end - len(piece) + 1)
    if overlap is not None:
        low = max(low, end - overlap)
    high = end
    while high < len(text) and text[high].isspace():
        high += 1
    found = []
    at = text.find(piece, low, high + len(piece))
    while at >= 0:
        found.append(at)
        at = text.find(piece, at + 1, high + len(piece))
    tail = end - len(piece)
    if prev and tail >= start and text.startswith(piece, tail):
        found.append(tail)
    return found


def chunk_document(
    document: Document,
    sentences: Sequence[Span],
    splitter: RecursiveCharacterTextSplitter,
    first_id: int,
) -> list[Chunk]:
    """Chunks of one document with ids from `first_id`, each knowing its sentences."""
    text = document.text
    spans = locate(text, splitter.split_text(text), splitter._chunk_overlap)
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
