"""Sentence embeddings with ONNX Runtime: the same vectors as sentence-transformers, no torch.

Loads a folder written by `rag.export` (model.onnx, tokenizer.json, encoder.json). Query time
imports only onnxruntime, tokenizers and numpy, so a process starts in well under a second.
Pooling (attention-masked mean) and L2 normalisation run in numpy, as sentence-transformers'
Pooling(mean) and Normalize modules do.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rag.runtime import cpu_session

MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
CONFIG_FILE = "encoder.json"  # written last by the export: marks a complete folder


class OnnxEncoder:
    """Turns texts into L2-normalised float32 vectors with an exported ONNX model folder."""

    def __init__(self, folder: Path, threads: int = 0, batch_size: int = 32) -> None:
        from tokenizers import Tokenizer

        config = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
        self.dimension = int(config["dimension"])
        self.max_seq_length = int(config["max_seq_length"])
        self.batch_size = batch_size
        # The model's tokenizer.json pads and truncates at a fixed 128 tokens; sentence-transformers
        # truncates at max_seq_length (256) and pads to the longest text of a batch: do the same.
        self.tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=self.max_seq_length)
        self.session = cpu_session(folder / MODEL_FILE, threads)
        self._inputs = {i.name for i in self.session.get_inputs()}

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Normalised embeddings, one row per text, in the order given."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        encodings = self.tokenizer.encode_batch(list(texts))
        # Longest first, so that each batch holds texts of similar length and pads little.
        order = sorted(range(len(texts)), key=lambda i: -len(encodings[i].ids))
        for begin in range(0, len(order), self.batch_size):
            rows = order[begin : begin + self.batch_size]
            width = len(encodings[rows[0]].ids)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                n = len(encodings[i].ids)
                ids[r, :n] = encodings[i].ids
                mask[r, :n] = 1
            out[rows] = self._embed(ids, mask)
        return out

    def encode_query(self, text: str) -> np.ndarray:
        """One normalised vector of shape (dimension,)."""
        # One text needs neither the batch tokenizer's thread pool nor padding.
        ids = np.array([self.tokenizer.encode(text).ids], dtype=np.int64)
        return self._embed(ids, np.ones_like(ids))[0]

    def _embed(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self.session.run(None, {k: v for k, v in feed.items() if k in self._inputs})[0]
        return mean_pool_normalise(hidden, mask)


def mean_pool_normalise(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """sentence-transformers' Pooling(mean) then Normalize, for (batch, tokens, dim) arrays."""
    weights = mask.astype(np.float32)[:, :, None]
    pooled = (np.asarray(hidden, dtype=np.float32) * weights).sum(axis=1)
    pooled /= np.clip(weights.sum(axis=1), 1e-9, None)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)
