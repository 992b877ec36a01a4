"""Article folds: one fixed assignment shared by training, `rag eval --fold-readers` and the
reader's own evaluation, and readers that answer only their fold's articles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import write_docs

from rag.cases import Case
from rag.config import Settings
from rag.embed import Encoder
from rag.errors import ConfigError
from rag.evaluate import run, run_folds
from rag.folds import FOLDS, article_folds, file_folds
from rag.ingest import build_index
from rag.pipeline import Pipeline
from rag.reader.onnx_reader import Reader

TITLES = [f"Article {n:02d}" for n in range(16)]


def test_every_article_has_one_fold_and_folds_are_even() -> None:
    folds = article_folds(TITLES)
    assert set(folds) == set(TITLES)
    sizes = sorted(list(folds.values()).count(k) for k in range(FOLDS))
    assert sizes == [3, 3, 3, 3, 4]


def test_the_assignment_depends_on_the_articles_not_their_order(tmp_path: Path) -> None:
    folds = article_folds(TITLES)
    assert article_folds(reversed(TITLES)) == folds
    path = tmp_path / "v2.json"
    path.write_text(json.dumps({"data": [{"title": t, "paragraphs": []} for t in TITLES]}))
    assert file_folds(path) == folds


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder,
             reader: Reader) -> Pipeline:
    root = tmp_path_factory.mktemp("folds")
    docs = write_docs(root / "docs", {
        "dam.txt": "The Hoover Dam was completed in 1936. It was built on the Colorado River.",
        "lake.txt": "Lake Mead formed behind the dam. The lake supplies water to Las Vegas.",
    })
    settings = Settings(docs_dir=docs, index_dir=root / "index")
    build_index(settings, docs, settings.index_dir, lambda: encoder)
    return Pipeline.load(settings, encoder=encoder, reader=reader)


CASES = [Case(id="1", question="When was the Hoover Dam completed?", answers=("1936",),
              category="Dam"),
         Case(id="2", question="Which city gets water from Lake Mead?", answers=("Las Vegas",),
              category="Lake")]


def test_fold_readers_answer_as_the_same_reader_would(pipeline: Pipeline,
                                                      reader: Reader) -> None:
    folds = {"Dam": 0, "Lake": 3}
    held = run_folds(pipeline, [reader] * FOLDS, folds, CASES)
    plain = run(pipeline, CASES)
    assert [(r.id, r.best_guess, r.confidence) for r in held] == [
        (r.id, r.best_guess, r.confidence) for r in plain]
    assert [r.best_guess for r in held] == ["1936", "Las Vegas"]


def test_fold_readers_are_refused_for_cases_of_no_fold_or_too_few(pipeline: Pipeline,
                                                                  reader: Reader) -> None:
    with pytest.raises(ConfigError, match="give 5 fold readers"):
        run_folds(pipeline, [reader] * 2, {"Dam": 0, "Lake": 1}, CASES)
    with pytest.raises(ConfigError, match="of article 'Lake', in no fold"):
        run_folds(pipeline, [reader] * FOLDS, {"Dam": 0}, CASES)
