"""Choose what the reader reads: a few sentences around the sentences that best match.

Reading every token of the top passages is what makes a span reader slow; the sentences of
the top passages are ranked by their cosine with the question and the share of its words
they hold (both already indexed), and the best few are read with a sentence either side.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rag.index import Index
from rag.lexical import coverage, term_set
from rag.records import Span
from rag.retrieve import Hit


@dataclass(frozen=True, slots=True)
class Choice:
    """How windows are chosen and how many are read. The sizes were fitted on the tuning half
    of SQuAD v1.1 open book (eval/benchmarks/reader/REPORT.md). The second window is read only
    when the first window's answer is, by the calibrated confidence, more likely wrong than
    right. That keeps every best span that reading both always gives on our own
    and everyday sets (one window alone loses 4 of 58 everyday answers) at about half the
    second reads, and, unlike a level on the reader's raw margin, it does not drift when the
    reader is retrained, since the calibration is refitted with it."""

    passages: int = 5  # top passages whose sentences compete
    first: int = 1  # windows read first
    windows: int = 2  # windows read at most: the rest only when the first give no clear answer
    sure: float = 0.5  # the confidence of a clear answer (not fitted: an even chance)
    overlap: float = 0.6  # the share of the question's idf a window's sentences hold
    passage: float = 0.3  # the passage's retrieval score, over the best passage's
    max_chars: int = 600  # a longer window drops a neighbour (reading time grows with length)


@dataclass(frozen=True, slots=True)
class Window:
    """A stretch of one document: `text == document.text[start:end]`, around one sentence."""

    doc_id: str
    start: int
    end: int
    text: str
    sentence_id: int  # the sentence it was chosen for
    hit: Hit  # the passage it came from
    score: float  # the ranking score that chose it
    similarity: float  # the chosen sentence's cosine with the question


def choose_windows(index: Index, idf: dict[str, float], query: np.ndarray, hits: list[Hit],
                   choice: Choice = Choice()) -> list[Window]:
    """The best windows for the question (its terms' `idf`, its vector `query`), best first,
    no two around the same sentence."""
    passages = hits[: choice.passages]
    if not passages:
        return []
    top = passages[0].score or 1.0
    ranked: list[tuple[float, float, str, int, Hit]] = []
    seen: set[tuple[str, int]] = set()
    for hit in passages:
        ids = [i for i in hit.chunk.sentence_ids if (hit.chunk.doc_id, i) not in seen]
        if not ids:
            continue
        seen.update((hit.chunk.doc_id, i) for i in ids)
        base = index.sentence_base[hit.chunk.doc_id]
        cosines = index.sentence_vectors[[base + i for i in ids]].astype(np.float32) @ query
        for sid, cosine in zip(ids, cosines.tolist(), strict=True):
            first, last = around(index.sentences[hit.chunk.doc_id], sid, choice.max_chars)
            held = coverage(idf, term_set(_text(index, hit.chunk.doc_id, first, last)))
            score = cosine + choice.overlap * held + choice.passage * hit.score / top
            ranked.append((score, cosine, hit.chunk.doc_id, sid, hit))
    ranked.sort(key=lambda r: -r[0])
    windows: list[Window] = []
    covered: set[tuple[str, int]] = set()
    for score, cosine, doc_id, sid, hit in ranked:
        if (doc_id, sid) in covered:
            continue  # already read inside a better window
        spans = index.sentences[doc_id]
        first, last = around(spans, sid, choice.max_chars)
        start, end = spans[first].start, spans[last].end
        windows.append(Window(doc_id, start, end, index.documents[doc_id].text[start:end], sid,
                              hit, score, cosine))
        covered.update((doc_id, i) for i in range(first, last + 1))
        if len(windows) == choice.windows:
            break
    return windows


def around(spans: list[Span], sid: int, max_chars: int) -> tuple[int, int]:
    """The first and last sentence of the window around sentence `sid`: one neighbour each
    side, fewer where that runs past `max_chars`."""
    first, last = max(sid - 1, 0), min(sid + 1, len(spans) - 1)
    while spans[last].end - spans[first].start > max_chars and (first < sid or last > sid):
        # Drop the longer neighbour first.
        before = spans[sid].start - spans[first].start if first < sid else -1
        after = spans[last].end - spans[sid].end if last > sid else -1
        if before >= after:
            first += 1
        else:
            last -= 1
    return first, last


def _text(index: Index, doc_id: str, first: int, last: int) -> str:
    spans = index.sentences[doc_id]
    return index.documents[doc_id].text[spans[first].start : spans[last].end]
