"""Offline, retrieval-augmented, extractive question answering with exact citations.

The names below load on first use, so `rag ask` does not pay for the indexing libraries.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_HOMES = {
    "Alternative": "rag.records",
    "Answer": "rag.records",
    "BuildReport": "rag.ingest",
    "Chunk": "rag.records",
    "Citation": "rag.records",
    "ConfigError": "rag.errors",
    "Document": "rag.records",
    "DocumentError": "rag.errors",
    "IndexCorruptError": "rag.errors",
    "IndexMismatchError": "rag.errors",
    "IndexMissingError": "rag.errors",
    "Passage": "rag.records",
    "Pipeline": "rag.pipeline",
    "RagError": "rag.errors",
    "Settings": "rag.config",
    "Turn": "rag.followup",
    "build_index": "rag.ingest",
}
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


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'rag' has no attribute {name!r}")
    value = getattr(import_module(_HOMES[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
