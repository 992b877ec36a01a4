"""A synthetic corpus of any size, made of a real index's sentences and their real embeddings.

Each document is three sentences of the source index drawn at random (seeded), short enough to
be one chunk. Vectors come from the source index: a sentence's exactly, a chunk's as the
normalised mean of its sentences' vectors. So 100k chunks build in minutes, not the hours that
embedding them would take on two cores; a text not made of known sentences is embedded for
real (and counted). The documents and the built index stay on disk: a second run with the
same size reuses both, since an unchanged folder indexes as a no-op.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rag.embed import Encoder
from rag.index import Index
from rag.sentences import split_sentences

PER_DOCUMENT = 3
MOST_CHARACTERS = 760  # under the default chunk size: one chunk a document
SEED = 7


def sentence_table(index: Index) -> dict[str, np.ndarray]:
    """Every sentence text of `index` with its stored vector."""
    table = {}
    for doc_id, spans in index.sentences.items():
        text = index.documents[doc_id].text
        for sid, span in enumerate(spans):
            table[text[span.start : span.end]] = index.sentence_vector(doc_id, sid)
    return table


def write_corpus(table: dict[str, np.ndarray], size: int, folder: Path) -> Path:
    """`size` documents under folder/docs (written once per size), the folder returned."""
    docs = folder / "docs"
    done = folder / f"docs-{size}.done"
    if done.is_file():
        return docs
    pool = sorted(t for t in table if 30 <= len(t) <= 300 and "\n" not in t and t[0].isupper())
    if len(pool) < PER_DOCUMENT:
        raise ValueError("the source index has too few sentences for a synthetic corpus")
    rng = random.Random(SEED)
    docs.mkdir(parents=True, exist_ok=True)
    for i in range(size):
        while True:
            text = " ".join(rng.sample(pool, PER_DOCUMENT))
            if len(text) <= MOST_CHARACTERS:
                break
        (docs / f"doc{i:06d}.txt").write_text(text + "\n", encoding="utf-8")
    done.touch()
    return docs


class LookupEncoder:
    """Vectors from a table of known sentences; other texts go to a real encoder."""

    def __init__(self, table: dict[str, np.ndarray], fallback: Encoder) -> None:
        self.table = table
        self.fallback = fallback
        self.dimension = fallback.dimension
        self.embedded = 0  # texts the real encoder had to embed

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One normalised vector per text."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            vector = self._known(text)
            if vector is None:
                vector = self.fallback.encode([text])[0]
                self.embedded += 1
            out[row] = vector
        return out

    def encode_query(self, text: str) -> np.ndarray:
        """One normalised vector of shape (dimension,)."""
        return self.encode([text])[0]

    def _known(self, text: str) -> np.ndarray | None:
        if text in self.table:
            return np.asarray(self.table[text], dtype=np.float32)
        parts = [self.table.get(text[s.start : s.end]) for s in split_sentences(text)]
        known = [np.asarray(p, dtype=np.float32) for p in parts if p is not None]
        if not parts or len(known) < len(parts):
            return None
        mean = np.mean(known, axis=0)
        return mean / max(float(np.linalg.norm(mean)), 1e-12)
