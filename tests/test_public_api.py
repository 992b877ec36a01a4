"""The curated public API: everything in __all__ exists and nothing private leaks."""

from __future__ import annotations

import rag


def test_all_names_exist() -> None:
    for name in rag.__all__:
        assert hasattr(rag, name), name


def test_all_is_sorted_and_public() -> None:
    assert rag.__all__ == sorted(rag.__all__)
    assert not [n for n in rag.__all__ if n.startswith("_")]


def test_pipeline_verbs() -> None:
    for verb in ("load", "ask", "chat", "search"):
        assert callable(getattr(rag.Pipeline, verb))
