"""Lexical search over chunk texts with bm25s (English stopwords, Snowball stemming)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import bm25s
import numpy as np
import Stemmer


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def terms(text: str) -> list[str]:
    """The stemmed, stopword-free terms BM25 sees in `text`."""
    tokens = bm25s.tokenize(
        [text], stopwords="en", stemmer=_stemmer(), return_ids=False, show_progress=False
    )
    return list(tokens[0]) if tokens else []


def build_lexical(texts: Sequence[str]) -> bm25s.BM25:
    """A BM25 index whose row i is texts[i]."""
    retriever = bm25s.BM25()
    if texts:
        tokens = bm25s.tokenize(list(texts), stopwords="en", stemmer=_stemmer(), show_progress=False)
        retriever.index(tokens, show_progress=False)
    return retriever


def lexical_scores(retriever: bm25s.BM25, query: str, rows: int) -> np.ndarray:
    """BM25 score of every row for `query` (zeros when no query term is indexed)."""
    query_terms = [t for t in terms(query) if t in retriever.vocab_dict] if rows else []
    if not query_terms:
        return np.zeros(rows, dtype=np.float32)
    return np.asarray(retriever.get_scores(query_terms), dtype=np.float32)


def save_lexical(retriever: bm25s.BM25, folder: Path) -> None:
    """Write the BM25 index as bm25s's plain files."""
    retriever.save(str(folder))


def load_lexical(folder: Path) -> bm25s.BM25:
    """Read a BM25 index written by save_lexical."""
    return bm25s.BM25.load(str(folder), mmap=False)
