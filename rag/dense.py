"""Dense search over chunk vectors with FAISS: inner product on normalised vectors."""

from __future__ import annotations

import os

import faiss
import numpy as np


def build_dense(vectors: np.ndarray, ids: np.ndarray, kind: str = "flat") -> faiss.Index:
    """An ID-mapped FAISS index: exact ("flat") or approximate ("hnsw")."""
    dimension = vectors.shape[1]
    base: faiss.Index
    if kind == "hnsw":
        base = faiss.IndexHNSWFlat(dimension, 32, faiss.METRIC_INNER_PRODUCT)
        base.hnsw.efConstruction = 80
        base.hnsw.efSearch = 128
    else:
        base = faiss.IndexFlatIP(dimension)
    index = faiss.IndexIDMap2(base)
    faiss.omp_set_num_threads(os.cpu_count() or 1)  # building does use them
    if len(ids):
        index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids.astype(np.int64))
    return index


def search_dense(index: faiss.Index, query: np.ndarray, k: int) -> list[tuple[int, float]]:
    """Top-k (chunk_id, inner product) pairs, best first."""
    if index.ntotal == 0 or k <= 0:  # FAISS asserts k > 0
        return []
    # One query gains nothing from OpenMP's threads, which spin against the server's own.
    faiss.omp_set_num_threads(1)
    scores, ids = index.search(query.reshape(1, -1).astype(np.float32), min(k, index.ntotal))
    return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
