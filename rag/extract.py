"""Pick the best sentence from the retrieved passages and cut the answer span out of it."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from rag.index import Index
from rag.lexical import terms
from rag.phrases import Phrase, find_phrases
from rag.question import Expect, Question
from rag.records import Span
from rag.retrieve import Hit


@dataclass(frozen=True, slots=True)
class SentenceWeights:
    """How sentence signals combine; fitted on SQuAD, see eval/README.md."""

    similarity: float = 1.0
    overlap: float = 0.6
    context: float = 0.3  # overlap of the sentence together with the one before it
    passage: float = 0.3
    typed: float = 0.25
    passages: int = 5  # how many top passages give candidate sentences


@dataclass(frozen=True, slots=True)
class Candidate:
    """One possible answer: a span inside a sentence inside a retrieved passage."""

    hit: Hit
    sentence_start: int
    sentence_end: int
    start: int
    end: int
    score: float
    similarity: float
    overlap: float
    context: float
    typed: bool


def extract(
    index: Index, question: Question, query: np.ndarray, hits: list[Hit],
    weights: SentenceWeights = SentenceWeights(),
) -> list[Candidate]:
    """Candidate answers from the top passages, best first, one per distinct sentence."""
    if not hits:
        return []
    top = hits[0].score or 1.0
    idf = _idf(index, list(question.stems))
    seen: set[tuple[str, int]] = set()
    candidates = []
    for hit in hits[: weights.passages]:
        doc = index.documents[hit.chunk.doc_id]
        spans = index.sentences[doc.doc_id]
        for sid in hit.chunk.sentence_ids:
            if (doc.doc_id, sid) in seen:
                continue
            seen.add((doc.doc_id, sid))
            span = spans[sid]
            text = doc.text[span.start : span.end]
            similarity = float(index.sentence_vector(doc.doc_id, sid).astype(np.float32) @ query)
            own = terms(text)
            overlap = _overlap(idf, own)
            before = _previous(doc.text, spans, sid)
            context = _overlap(idf, own + terms(before)) if before else overlap
            phrase = _best_phrase(text, question, doc.text, idf)
            typed = phrase is not None
            score = (weights.similarity * similarity + weights.overlap * overlap
                     + weights.context * context + weights.passage * hit.score / top
                     + (weights.typed if typed else 0.0))
            start, end = (span.start + phrase.start, span.start + phrase.end) if phrase else (
                span.start, span.end)
            candidates.append(Candidate(hit, span.start, span.end, start, end, score,
                                        similarity, overlap, context, typed))
    candidates.sort(key=lambda c: -c.score)
    return candidates


def _previous(text: str, spans: list[Span], sid: int) -> str:
    """The sentence before `sid` when it stands on the same line or paragraph line."""
    if sid == 0 or "\n" in text[spans[sid - 1].end : spans[sid].start]:
        return ""
    return text[spans[sid - 1].start : spans[sid - 1].end]


def _idf(index: Index, query_terms: list[str]) -> dict[str, float]:
    """Inverse document frequency of each query term over the chunks."""
    vocab = index.lexical.vocab_dict
    indptr = index.lexical.scores["indptr"]
    n = max(len(index.chunks), 1)
    out = {}
    for term in set(query_terms):
        tid = vocab.get(term)
        df = int(indptr[tid + 1] - indptr[tid]) if tid is not None else 0
        out[term] = math.log(1 + (n - df + 0.5) / (df + 0.5))
    return out


def _overlap(idf: dict[str, float], sentence_terms: list[str]) -> float:
    """Share of the question's idf mass that the sentence contains."""
    total = sum(idf.values())
    if total <= 0:
        return 0.0
    present = set(sentence_terms)
    return sum(w for t, w in idf.items() if t in present) / total


def _best_phrase(text: str, question: Question, document: str,
                 idf: dict[str, float]) -> Phrase | None:
    """The phrase of the expected kind that the question's words surround most closely.

    Each question word found in the sentence votes for nearby phrases (its idf, decaying
    with distance); a phrase the document repeats often (the topic itself) counts less.
    None when no phrase gets enough support: the whole sentence is then the answer.
    """
    if question.expect is Expect.ANY:
        return None
    stems = set(question.stems)
    counted = set(terms(question.counted))
    phrases = []
    for p in find_phrases(text, question.expect, question.plural, document):
        words = set(terms(text[p.start : p.end]))
        if words <= stems:
            continue  # the question's own words are not its answer
        if counted and words & stems and not words & counted:
            continue  # "two deadly attacks" does not answer "how many people"
        phrases.append(p)
    if not phrases:
        return None
    anchors = [(m.start(), m.end(), sum(idf.get(t, 0.0) for t in set(terms(m.group()))))
               for m in _WORD.finditer(text)]
    anchors = [a for a in anchors if a[2] > 0]
    total = sum(idf.values()) or 1.0

    def support(p: Phrase) -> float:
        near = sum(w / (1.0 + _gap(p, a_start, a_end) / 12.0) for a_start, a_end, w in anchors
                   if not (p.start <= a_start and a_end <= p.end))
        repeats = len(re.findall(re.escape(text[p.start : p.end]), document))
        return near / total / (1.0 + 0.3 * math.log(max(repeats, 1)))

    best = max(phrases, key=support)
    return best if support(best) >= MIN_SUPPORT else None


MIN_SUPPORT = 0.15


def _gap(phrase: Phrase, start: int, end: int) -> int:
    """Characters between a phrase and a word (0 when they touch)."""
    return max(start - phrase.end, phrase.start - end, 0)


_WORD = re.compile(r"[\w’'-]+")
