"""Article folds: one fixed assignment for training, a record in each reader folder of what
it held out, and evaluation that sends each question to the one reader that held its
article out."""

from __future__ import annotations

import argparse
import json
import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest
from conftest import write_docs

from rag.cases import Case
from rag.config import Settings
from rag.embed import Encoder
from rag.errors import ConfigError
from rag.evaluate import open_fold_readers, run, run_folds
from rag.folds import (
    FOLDS,
    TrainedOn,
    article_folds,
    file_folds,
    read_trained_on,
    reader_for,
    write_trained_on,
)
from rag.ingest import build_index
from rag.pipeline import Pipeline
from rag.reader import train
from rag.reader.onnx_reader import MODEL_DIR, Reader
from rag.reader.windows import Window
from rag.records import AnswerSpan

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


def test_a_reader_folder_records_what_it_trained_on(tmp_path: Path) -> None:
    assert read_trained_on(tmp_path) == TrainedOn()
    record = TrainedOn(("squad-v2.0-dev-part.json",), frozenset({"Normans", "Warsaw"}))
    write_trained_on(tmp_path, record)
    assert read_trained_on(tmp_path) == record


def test_each_article_goes_to_the_one_reader_that_held_it_out() -> None:
    held = [frozenset({"Dam"}), frozenset({"Lake", "River"})]
    assert [reader_for(a, held) for a in ("Dam", "River")] == [0, 1]
    with pytest.raises(ConfigError, match="'Sea' is held out by 0 of the fold readers"):
        reader_for("Sea", held)
    with pytest.raises(ConfigError, match="'Dam' is held out by 2"):
        reader_for("Dam", [*held, frozenset({"Dam"})])


class Recording:
    """The packaged reader, noting the questions it is asked."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self.questions: list[str] = []

    def read(self, question: str, windows: Sequence[Window]) -> list[AnswerSpan]:
        self.questions.append(question)
        return self.reader.read(question, windows)


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


def test_fold_readers_answer_only_their_articles(pipeline: Pipeline, reader: Reader) -> None:
    readers = [Recording(reader) for _ in range(3)]
    held = [frozenset({"Sea"}), frozenset({"Lake"}), frozenset({"Dam"})]
    results = run_folds(pipeline, readers, held, CASES)
    assert [r.questions for r in readers] == [[], [CASES[1].question], [CASES[0].question]]
    plain = run(pipeline, CASES)
    assert [(r.best_guess, r.confidence) for r in results] == [
        (r.best_guess, r.confidence) for r in plain]
    assert [r.best_guess for r in results] == ["1936", "Las Vegas"]


def test_no_case_is_asked_when_one_article_has_no_reader(pipeline: Pipeline,
                                                         reader: Reader) -> None:
    recording = Recording(reader)
    with pytest.raises(ConfigError, match="'Lake' is held out by 0"):
        run_folds(pipeline, [recording], [frozenset({"Dam"})], CASES)
    assert recording.questions == []


def test_fold_reader_folders_must_say_what_they_held_out(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no reader.onnx in"):
        open_fold_readers([tmp_path])
    folder = tmp_path / "fold"
    shutil.copytree(MODEL_DIR, folder)
    with pytest.raises(ConfigError, match="names no held-out articles"):
        open_fold_readers([folder])
    write_trained_on(folder, TrainedOn(("squad-v2.0-dev-part.json",), frozenset({"Dam"})))
    readers, held = open_fold_readers([folder])
    assert len(readers) == 1 and held == [frozenset({"Dam"})]


def _run(tmp_path: Path, init: Path | None, hold_out: int) -> argparse.Namespace:
    squad2 = tmp_path / "squad-v2.0-dev-part.json"
    squad2.write_text(json.dumps({"data": [{"title": t, "paragraphs": []} for t in TITLES]}))
    return argparse.Namespace(init=init, squad2=squad2, hold_out=hold_out)


def test_a_fold_reader_may_not_start_from_one_that_saw_its_articles(tmp_path: Path) -> None:
    folds = article_folds(TITLES)
    fold2 = frozenset(t for t, k in folds.items() if k == 2)
    assert train._trained_on(_run(tmp_path, None, 2)) == TrainedOn(
        ("squad-v2.0-dev-part.json",), fold2)
    seen_all = tmp_path / "final"
    seen_all.mkdir()
    write_trained_on(seen_all, TrainedOn(("squad-v2.0-dev-part.json",)))
    with pytest.raises(SystemExit, match="without holding out this run's --hold-out"):
        train._trained_on(_run(tmp_path, seen_all, 2))
    # A final reader (nothing held out) may; so may a fold reader from its own fold's start.
    assert train._trained_on(_run(tmp_path, seen_all, -1)).held_out == frozenset()
    write_trained_on(seen_all, TrainedOn(("squad-v2.0-dev-part.json",), fold2))
    assert train._trained_on(_run(tmp_path, seen_all, 2)).held_out == fold2
