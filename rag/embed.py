"""Sentence embeddings with the packaged all-MiniLM-L6-v2 (no download at run time).

Two encoders give the same vectors (to about 1e-7): ONNX Runtime (the default: fast to start,
about 3x faster per query on this machine, no torch in the process) and sentence-transformers
on torch (the reference, and the way to run a model the ONNX export does not cover).
RAG_ENCODER chooses.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from rag.config import Settings
from rag.errors import ConfigError


class Encoder(Protocol):
    """What indexing and querying need of an embedding model."""

    dimension: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Normalised float32 embeddings, one row per text."""
        ...

    def encode_query(self, text: str) -> np.ndarray:
        """One normalised vector of shape (dimension,)."""
        ...


def open_encoder(settings: Settings) -> Encoder:
    """The encoder `settings` asks for, loaded from the local model folder."""
    _check_folder(settings.model_path)
    if settings.encoder == "torch":
        return TorchEncoder(settings.model_path, settings.batch_size, settings.threads)
    from rag.export import onnx_folder
    from rag.onnx_encoder import OnnxEncoder

    folder = onnx_folder(settings.model_path, settings.cache_dir)
    return OnnxEncoder(folder, settings.threads, settings.batch_size)


class TorchEncoder:
    """sentence-transformers on torch: the reference encoder."""

    def __init__(self, model_path: str, batch_size: int = 32, threads: int = 1) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        _check_folder(model_path)
        import torch
        from sentence_transformers import SentenceTransformer

        # With two intra-op threads torch spin-waits against the server's other threads, and a
        # single query encode grows from ~20 ms to ~300 ms on a busy 2-core machine.
        torch.set_num_threads(threads or 1)
        self.model = SentenceTransformer(model_path, device="cpu")
        self.batch_size = batch_size
        dimension = self.model.get_embedding_dimension()
        if dimension is None:
            raise ConfigError(f"Model {model_path!r} does not report an embedding dimension.")
        self.dimension = int(dimension)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Normalised embeddings, one row per text."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(list(texts), batch_size=self.batch_size,
                                    normalize_embeddings=True, convert_to_numpy=True)
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        """One normalised vector of shape (dimension,)."""
        return self.encode([text])[0]


def _check_folder(model_path: str) -> None:
    if not os.path.isdir(model_path):
        raise ConfigError(
            f"Model folder {model_path!r} does not exist: set RAG_MODEL_PATH to a "
            "sentence-transformers model folder, or unset it to use the packaged model."
        )
