"""Shared fixtures: the real packaged model (loaded once per session), index builders, and
a tiny corpus served by a real uvicorn server for the API tests."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"

import functools  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from contextlib import AbstractContextManager, contextmanager  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402
import uvicorn  # noqa: E402

from rag.api import create_app  # noqa: E402
from rag.config import Settings  # noqa: E402
from rag.embed import Encoder, open_encoder  # noqa: E402
from rag.evaluate import Result  # noqa: E402
from rag.ingest import BuildReport, build_index  # noqa: E402
from rag.pipeline import Pipeline  # noqa: E402
from rag.reader.onnx_reader import OnnxReader, Reader  # noqa: E402


@pytest.fixture(scope="session")
def encoder() -> Encoder:
    """The packaged all-MiniLM-L6-v2 on the default (ONNX) encoder, loaded once a session."""
    return open_encoder(Settings())


@functools.cache
def packaged_reader() -> Reader:
    """The packaged span reader, loaded once a session."""
    return OnnxReader()


@pytest.fixture(scope="session")
def reader() -> Reader:
    """The packaged span reader (the same object every test gets)."""
    return packaged_reader()


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


# --- The HTTP API: a tiny corpus served by a real uvicorn on 127.0.0.1 ----------------------

API_DOCS = {
    "eiffel.txt": "The Eiffel Tower is a wrought-iron lattice tower in Paris, France. "
                  "The Eiffel Tower was completed in 1889. It was designed by the engineering "
                  "company of Gustave Eiffel. The tower is 330 metres tall.\n",
    "moon.txt": "Apollo 11 landed on the Moon on July 20, 1969. Neil Armstrong was the first "
                "person to walk on the lunar surface. Buzz Aldrin followed him.\n",
    "sub/notes.md": "# Bridge notes\n\nThe Golden Gate Bridge opened in 1937. It spans the "
                    "Golden Gate strait in San Francisco. Joseph Strauss was the chief engineer "
                    "of the bridge.\n",
}


def write_pdf(path: Path, pages: list[str]) -> None:
    """A real pdf with one page per text, made with fpdf2."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 10, text)
    pdf.output(str(path))


def write_docs(folder: Path, docs: dict[str, str]) -> Path:
    """Write {relative path: text} under `folder`; returns the folder."""
    for name, text in docs.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def scored(id: str, answerable: bool, **fields: Any) -> Result:
    """An evaluation result written by hand: `fields` over plain defaults."""
    defaults: dict[str, Any] = dict(
        question=f"Question {id}?", kind="factual" if answerable else "unanswerable",
        category="unanswerable", golds=[], prediction=None, best_guess=None, confidence=0.0,
        correct=False, guess_correct=False, exact_match=0.0, f1=0.0, words=1, rank=None,
        citation_ok=True, citation_correct=False, standalone_question=None)
    return Result(id=id, answerable=answerable, **(defaults | fields))


def clean_settings(docs_dir: Path, index_dir: Path, **overrides: Any) -> Settings:
    """Settings blind to RAG_* variables, usable from session-scoped fixtures."""
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("RAG_"):
                patch.delenv(name)
        return Settings(docs_dir=docs_dir, index_dir=index_dir, **overrides)


@contextmanager
def run_server(app: Any) -> Iterator[str]:
    """Serve `app` with a real uvicorn on a free 127.0.0.1 port in a thread; yields its URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                            access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture(scope="session")
def live_server() -> Callable[[Any], AbstractContextManager[str]]:
    """The run_server context manager: `with live_server(app) as url: ...`."""
    return run_server


def index_corpus(root: Path, docs: dict[str, str], encoder: Encoder,
                 ) -> tuple[Settings, Pipeline]:
    """Write `docs` under root/docs, index them with `encoder`, and load their Pipeline."""
    settings = clean_settings(write_docs(root / "docs", docs), root / "index")
    build_index(settings, settings.docs_dir, settings.index_dir, lambda: encoder)
    return settings, Pipeline.load(settings, encoder=encoder, reader=packaged_reader())


@pytest.fixture(scope="session")
def api_corpus(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder,
               ) -> tuple[Settings, Pipeline]:
    """API_DOCS indexed once per session with the session encoder, and its Pipeline."""
    return index_corpus(tmp_path_factory.mktemp("api"), API_DOCS, encoder)


@pytest.fixture(scope="session")
def api_url(api_corpus: tuple[Settings, Pipeline]) -> Iterator[str]:
    """Base URL of a real server answering over api_corpus, without an API key."""
    settings, pipeline = api_corpus
    with run_server(create_app(settings, pipeline)) as url:
        yield url


@pytest.fixture(scope="session")
def keyed_url(api_corpus: tuple[Settings, Pipeline]) -> Iterator[str]:
    """Base URL of a second server over api_corpus that needs API key "s3cret" and allows
    CORS from http://app.example."""
    settings, pipeline = api_corpus
    keyed = settings.model_copy(update={"api_key": "s3cret",
                                        "cors_origins": ["http://app.example"]})
    with run_server(create_app(keyed, pipeline)) as url:
        yield url
