"""A fast evaluation over eval/aqim.jsonl that locks in today's answer quality.

The floors below are the measured values of the last calibrated run, rounded down a little
to absorb noise: a change that makes answers worse fails CI. Raise them when quality rises.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rag.abstain import load_calibration
from rag.cases import locate_answers, read_cases
from rag.config import Settings
from rag.embed import Encoder
from rag.evaluate import Result, run, summarize
from rag.ingest import build_index
from rag.pipeline import Pipeline
from rag.reader.onnx_reader import Reader

ROOT = Path(__file__).resolve().parents[1]
FLOORS = {
    # The reader answers short ("at least 60" may come back as "60"), and these count an
    # answer right only when it holds a whole gold string: token F1 is floored beside them.
    # Stage 9 (2026-12-03) at its threshold (0.288, from 0.333) answers more than stage 8:
    # answered right 0.591 -> 0.629, abstained 0.825 -> 0.800 (the floor, met exactly).
    "answered_correct": 0.57,  # measured 0.629
    "guess_contains_gold": 0.63,  # measured 0.667
    "guess_f1": 0.65,  # measured 0.668
    # 21 unanswerable cases written blind to the reader joined the first 19 on 2026-12-02:
    # stage 9 abstains on 17 of the first 19 (stage 8: 18), 15 of the new 21.
    "abstention": 0.80,  # measured 0.800
    "recall@1": 0.86,  # measured 0.879
    "recall@5": 0.98,  # measured 1.000
    "citation_ok": 1.0,
    "auroc": 0.83,  # measured 0.837
    "auroc_answerable": 0.81,  # measured 0.815
}


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder,
            reader: Reader) -> list[Result]:
    root = tmp_path_factory.mktemp("aqim")
    docs = root / "docs"
    docs.mkdir()
    shutil.copy(ROOT / "docs" / "aqim-profile.txt", docs)
    settings = Settings(docs_dir=docs, index_dir=root / "index")
    build_index(settings, docs, settings.index_dir, lambda: encoder)
    pipeline = Pipeline.load(settings, encoder=encoder, reader=reader)
    texts = {d: doc.text for d, doc in pipeline.index.documents.items()}
    return run(pipeline, locate_answers(read_cases(ROOT / "eval" / "aqim.jsonl"), texts))


def test_every_gold_answer_is_in_the_document(results: list[Result]) -> None:
    text = (ROOT / "docs" / "aqim-profile.txt").read_text(encoding="utf-8")
    for r in results:
        for gold in r.golds:
            assert gold.lower() in text.lower(), (r.id, gold)


@pytest.mark.parametrize(("metric", "floor"), sorted(FLOORS.items()))
def test_quality_floor(results: list[Result], metric: str, floor: float) -> None:
    summary = summarize(results, threshold=load_calibration().threshold)
    assert summary[metric] is not None and summary[metric] >= floor, (metric, summary[metric])


def test_the_first_unanswerable_cases_are_still_abstained_on(results: list[Result]) -> None:
    # The abstention floor was lowered when 21 harder cases joined (file order: they come
    # last); this keeps it from hiding a loss on the first 19, of which 17 are abstained on
    # (18 by stage 8).
    first = [r for r in results if not r.answerable][:19]
    assert sum(r.prediction is None for r in first) >= 17, [r.id for r in first
                                                            if r.prediction is not None]


def test_offsets_hold_for_every_answer(results: list[Result]) -> None:
    assert all(r.citation_ok for r in results)
