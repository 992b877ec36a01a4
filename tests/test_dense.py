"""FAISS search equals a brute-force numpy search over the same real embeddings."""

from __future__ import annotations

import numpy as np
import pytest

from rag.dense import build_dense, search_dense
from rag.embed import Encoder

TEXTS = [
    "Zebras live in the grasslands of Kenya.",
    "Emperor penguins breed during the Antarctic winter.",
    "Mount Etna is an active volcano in Sicily.",
    "Glaciers carve deep valleys over thousands of years.",
    "The stock market fell sharply on Monday.",
    "Bread is baked from flour, water and yeast.",
    "The violin has four strings tuned in fifths.",
    "Photosynthesis turns sunlight into chemical energy.",
    "The Nile is the longest river in Africa.",
    "Chess openings include the Sicilian Defence.",
    "Honey bees communicate with a waggle dance.",
    "The Eiffel Tower was finished in 1889.",
    "Rain forests hold most of the world's species.",
    "A marathon is 42.195 kilometres long.",
    "Python lists are ordered and mutable.",
    "Coffee beans are the seeds of a cherry.",
    "The Moon orbits the Earth every 27 days.",
    "Tigers are the largest living cat species.",
    "Copper conducts electricity very well.",
    "Sourdough uses wild yeast instead of baker's yeast.",
]
QUERIES = [
    "Where do zebras live?",
    "Which bird breeds in the Antarctic?",
    "How is bread made?",
    "When was the Eiffel Tower built?",
    "big cats",
]
# Non-contiguous ids: the ID map, not the row number, must come back.
IDS = np.arange(100, 100 + 3 * len(TEXTS), 3, dtype=np.int64)


@pytest.fixture(scope="module")
def vectors(encoder: Encoder) -> np.ndarray:
    return encoder.encode(TEXTS)


@pytest.fixture(scope="module")
def queries(encoder: Encoder) -> dict[str, np.ndarray]:
    # One batch: each encode call costs the model a forward pass.
    return dict(zip(QUERIES, encoder.encode(QUERIES), strict=True))


def brute_force(vectors: np.ndarray, query: np.ndarray, k: int) -> tuple[list[int], np.ndarray]:
    scores = vectors @ query
    order = np.argsort(-scores, kind="stable")[:k]
    return [int(IDS[i]) for i in order], scores[order]


def test_vectors_are_normalised(encoder: Encoder, vectors: np.ndarray) -> None:
    assert vectors.shape == (len(TEXTS), 384)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert encoder.encode([]).shape == (0, 384)


@pytest.mark.parametrize("k", [1, 5, 20])
@pytest.mark.parametrize("question", QUERIES)
def test_flat_equals_brute_force(
    vectors: np.ndarray, queries: dict[str, np.ndarray], question: str, k: int
) -> None:
    query = queries[question]
    hits = search_dense(build_dense(vectors, IDS), query, k)
    ids, scores = brute_force(vectors, query, k)
    assert [i for i, _ in hits] == ids
    assert np.allclose([s for _, s in hits], scores, atol=1e-5)


def test_expected_top_hits(vectors: np.ndarray, queries: dict[str, np.ndarray]) -> None:
    index = build_dense(vectors, IDS)
    top = [search_dense(index, queries[q], 1)[0][0] for q in QUERIES]
    assert top == [int(IDS[0]), int(IDS[1]), int(IDS[5]), int(IDS[11]), int(IDS[17])]


def test_each_text_finds_itself(vectors: np.ndarray) -> None:
    index = build_dense(vectors, IDS)
    for row, vector in enumerate(vectors):
        (chunk_id, score), *_ = search_dense(index, vector, 3)
        assert chunk_id == IDS[row]
        assert score == pytest.approx(1.0, abs=1e-5)


def test_k_larger_than_the_index_returns_everything(vectors: np.ndarray) -> None:
    hits = search_dense(build_dense(vectors[:3], IDS[:3]), vectors[0], 10)
    assert sorted(i for i, _ in hits) == [int(i) for i in IDS[:3]]


def test_k_zero_returns_nothing(vectors: np.ndarray) -> None:
    assert search_dense(build_dense(vectors, IDS), vectors[0], 0) == []


def test_empty_index_returns_nothing(vectors: np.ndarray) -> None:
    empty = build_dense(np.zeros((0, 384), dtype=np.float32), np.zeros(0, dtype=np.int64))
    assert empty.ntotal == 0
    assert search_dense(empty, vectors[0], 5) == []


@pytest.mark.parametrize("question", QUERIES)
def test_hnsw_has_the_same_top_hit(
    vectors: np.ndarray, queries: dict[str, np.ndarray], question: str
) -> None:
    query = queries[question]
    flat = search_dense(build_dense(vectors, IDS, "flat"), query, 1)
    hnsw = search_dense(build_dense(vectors, IDS, "hnsw"), query, 1)
    assert [i for i, _ in hnsw] == [i for i, _ in flat]
    assert hnsw[0][1] == pytest.approx(flat[0][1], abs=1e-5)
