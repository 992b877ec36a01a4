"""Sentence embeddings with the packaged all-MiniLM-L6-v2 (no download at run time)."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from rag.errors import ConfigError


class Encoder:
    """Turns texts into L2-normalised float32 vectors with a local sentence-transformers model."""

    def __init__(self, model_path: str, batch_size: int = 64) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        if not os.path.isdir(model_path):
            raise ConfigError(
                f"Model folder {model_path!r} does not exist: set RAG_MODEL_PATH to a "
                "sentence-transformers model folder, or unset it to use the packaged model."
            )
        import torch
        from sentence_transformers import SentenceTransformer

        # One intra-op thread: with two, torch spin-waits against the server's other threads
        # and a single query encode grows from ~20 ms to ~300 ms on this 2-core machine.
        torch.set_num_threads(1)

        self.model = SentenceTransformer(model_path, device="cpu")
        self.batch_size = batch_size
        dimension = self.model.get_embedding_dimension()
        if dimension is None:
            raise ConfigError(f"Model {model_path!r} does not report an embedding dimension.")
        self.dimension = int(dimension)

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """Normalised embeddings, one row per text."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        """One normalised vector of shape (dimension,)."""
        return self.encode([text])[0]
