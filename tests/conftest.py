"""Shared fixtures: the real packaged model (loaded once per session) and index builders."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"

from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402

from rag.config import Settings, default_model_path  # noqa: E402
from rag.embed import Encoder  # noqa: E402
from rag.ingest import BuildReport, build_index  # noqa: E402


@pytest.fixture(scope="session")
def encoder() -> Encoder:
    """The packaged all-MiniLM-L6-v2, loaded once for the whole session."""
    return Encoder(default_model_path())


@pytest.fixture
def make_settings(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Settings]:
    """A factory (docs_dir, index_dir, **overrides) -> Settings, blind to RAG_* variables."""
    for name in list(os.environ):
        if name.startswith("RAG_"):
            monkeypatch.delenv(name)

    def make(docs_dir: Path, index_dir: Path, **overrides: Any) -> Settings:
        return Settings(docs_dir=docs_dir, index_dir=index_dir, **overrides)

    return make


@pytest.fixture
def build(encoder: Encoder) -> Callable[..., BuildReport]:
    """Run build_index on settings.docs_dir -> settings.index_dir with the session encoder."""

    def run(settings: Settings, rebuild: bool = False) -> BuildReport:
        return build_index(
            settings, settings.docs_dir, settings.index_dir, lambda: encoder, rebuild=rebuild
        )

    return run
