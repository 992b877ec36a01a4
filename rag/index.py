"""The in-memory index: documents, chunks, their vectors, and both search structures."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.metadata import version

import bm25s
import faiss
import numpy as np
from pydantic import BaseModel

from rag.config import Settings
from rag.records import Chunk, Document, Span


class Manifest(BaseModel):
    """What an index was built from and with; checked on every load."""

    format: int = 3
    package_version: str
    model_name: str
    dimension: int
    chunk_size: int
    chunk_overlap: int
    index_type: str
    encoder: str = ""  # onnx or torch: the same vectors, so not checked on load
    documents: dict[str, str] = {}  # doc_id -> sha256 of the file's bytes
    counts: dict[str, int] = {}
    built_at: str = ""
    build_seconds: float = 0.0
    files: dict[str, int] = {}  # file name -> size in bytes
    checksums: dict[str, str] = {}  # every file's path in the build -> sha256 of its bytes


def expected_manifest(settings: Settings, dimension: int = 384) -> Manifest:
    """The manifest fields a build with `settings` produces (dimension from the model)."""
    return Manifest(
        package_version=version("rag"), model_name=settings.model_name, dimension=dimension,
        chunk_size=settings.chunk_size, chunk_overlap=settings.chunk_overlap,
        index_type=settings.index_type, encoder=settings.encoder,
    )


@dataclass
class Index:
    """Everything a query needs, with chunk row i aligned across chunks, vectors and BM25."""

    manifest: Manifest
    documents: dict[str, Document]
    sentences: dict[str, list[Span]]
    chunks: list[Chunk]
    chunk_vectors: np.ndarray
    sentence_vectors: np.ndarray
    dense: faiss.Index
    lexical: bm25s.BM25
    row_of: dict[int, int] = field(init=False)
    sentence_base: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.row_of = {c.chunk_id: row for row, c in enumerate(self.chunks)}
        base = 0
        self.sentence_base = {}
        for doc_id, spans in self.sentences.items():
            self.sentence_base[doc_id] = base
            base += len(spans)

    def document(self, doc_id: str) -> Document | None:
        """The document of `doc_id`, or None. Ids are keys here, never paths, so `..` cannot
        reach the disk; an id that climbs is refused by name anyway, so none ever looks valid."""
        return None if ".." in doc_id.split("/") else self.documents.get(doc_id)

    def sentence_vector(self, doc_id: str, sentence_id: int) -> np.ndarray:
        """The stored embedding of one sentence of one document."""
        return self.sentence_vectors[self.sentence_base[doc_id] + sentence_id]
