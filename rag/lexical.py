"""Lexical search over chunk texts with bm25s (English stopwords, Snowball stemming)."""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Collection, Iterable, Sequence
from functools import lru_cache
from pathlib import Path

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN

# Question words and function words carry no topic: neither BM25 nor overlap counts them.
_FUNCTION_WORDS = (
    "a an the of in on at to for from by with and or but is are was were be been being do does "
    "did has have had what which who whom whose when where why how that this these those it its "
    "as into about than then there their they them he she his her we our you your i me my not "
    "no can could would should will shall may might must also any all some many much more most "
    "such so if while after before during over under between among up down out off again "
    "further once only own same too very just s t one ever"
)
STOPWORDS = frozenset(STOPWORDS_EN) | frozenset(_FUNCTION_WORDS.split())
_STOPLIST = sorted(STOPWORDS)
# bm25s sets its own logger to DEBUG, which prints build chatter under any root handler.
logging.getLogger("bm25s").setLevel(logging.WARNING)
_SPLIT = re.compile(r"(?u)\b\w\w+\b")  # bm25s's default splitter

_EMPTY = "empty.txt"  # written instead of bm25s's files when no term was indexed


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


@lru_cache(maxsize=1 << 17)
def terms(text: str) -> tuple[str, ...]:
    """The stemmed, stopword-free terms BM25 sees in `text` (bm25s's own tokenisation).

    Cached: every question re-reads the sentences of its top passages.
    """
    words = [w for w in _SPLIT.findall(text.lower()) if w not in STOPWORDS]
    return tuple(_stemmer().stemWords(words)) if words else ()


def build_lexical(texts: Sequence[str]) -> bm25s.BM25:
    """A BM25 index whose row i is texts[i]."""
    retriever = bm25s.BM25()
    if texts:
        tokens = bm25s.tokenize(
            list(texts), stopwords=_STOPLIST, stemmer=_stemmer(), show_progress=False
        )
        # bm25s cannot index a corpus without a single term (no documents, or stopwords only).
        if tokens.vocab:
            retriever.index(tokens, show_progress=False)
    return retriever


def lexical_scores(retriever: bm25s.BM25, query: str, rows: int) -> np.ndarray:
    """BM25 score of every row for `query` (zeros when no query term is indexed)."""
    vocab = getattr(retriever, "vocab_dict", None) or {}
    query_terms = [t for t in terms(query) if t in vocab] if rows else []
    if not query_terms:
        return np.zeros(rows, dtype=np.float32)
    return np.asarray(retriever.get_scores(query_terms), dtype=np.float32)


def save_lexical(retriever: bm25s.BM25, folder: Path) -> None:
    """Write the BM25 index as bm25s's plain files (a marker file when it holds no term)."""
    if not hasattr(retriever, "scores"):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / _EMPTY).write_text("no terms indexed\n", encoding="utf-8")
        return
    retriever.save(str(folder))


def load_lexical(folder: Path) -> bm25s.BM25:
    """Read a BM25 index written by save_lexical."""
    if (folder / _EMPTY).is_file():
        return bm25s.BM25()
    return bm25s.BM25.load(str(folder), mmap=False)


def idf_weights(retriever: bm25s.BM25, query_terms: Sequence[str], rows: int) -> dict[str, float]:
    """BM25's inverse document frequency of each query term over the indexed rows."""
    vocab = getattr(retriever, "vocab_dict", None) or {}
    indptr = retriever.scores["indptr"] if vocab else None
    n = max(rows, 1)
    out = {}
    for term in set(query_terms):
        tid = vocab.get(term)
        df = int(indptr[tid + 1] - indptr[tid]) if tid is not None and indptr is not None else 0
        out[term] = math.log(1 + (n - df + 0.5) / (df + 0.5))
    return out


@lru_cache(maxsize=1 << 17)
def term_set(text: str) -> frozenset[str]:
    """The distinct terms of `text` (cached, like `terms`)."""
    return frozenset(terms(text))


def coverage(idf: dict[str, float], text_terms: Collection[str]) -> float:
    """Share of the query's idf mass whose terms occur in `text_terms`."""
    return best_coverage(idf, [text_terms])


def best_coverage(idf: dict[str, float], texts_terms: Iterable[Collection[str]]) -> float:
    """The largest `coverage` among several texts' terms (sentences of one passage)."""
    total = sum(idf.values())
    if total <= 0:
        return 0.0
    best = 0.0
    for text_terms in texts_terms:
        present = text_terms if isinstance(text_terms, (set, frozenset)) else frozenset(text_terms)
        found = present.intersection(idf)
        if found:
            best = max(best, sum(map(idf.__getitem__, found)))
    return best / total
