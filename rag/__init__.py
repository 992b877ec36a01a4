"""Offline, retrieval-augmented, extractive question answering with exact citations."""

from rag.config import Settings
from rag.errors import (
    ConfigError,
    DocumentError,
    IndexCorruptError,
    IndexMismatchError,
    IndexMissingError,
    RagError,
)
from rag.followup import Turn
from rag.ingest import BuildReport, build_index
from rag.pipeline import Pipeline
from rag.records import Alternative, Answer, Chunk, Citation, Document, Passage

__all__ = [
    "Alternative",
    "Answer",
    "BuildReport",
    "Chunk",
    "Citation",
    "ConfigError",
    "Document",
    "DocumentError",
    "IndexCorruptError",
    "IndexMismatchError",
    "IndexMissingError",
    "Passage",
    "Pipeline",
    "RagError",
    "Settings",
    "Turn",
    "build_index",
]
