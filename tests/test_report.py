"""Evaluation reports: the failures a reviewer acts on, the definitions, the run's stamp,
and charts that are written (their look is checked by eye when they change)."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import scored

from rag.evaluate import Result
from rag.report import write_report


def result(id: str, answerable: bool, prediction: str | None, confidence: float, correct: bool,
           rank: int | None = 1, golds: tuple[str, ...] = ("1889",)) -> Result:
    return scored(id, answerable, category="towers" if answerable else "unanswerable",
                  golds=list(golds) if answerable else [], prediction=prediction,
                  best_guess=prediction or "a guess", confidence=confidence, correct=correct,
                  guess_correct=correct, exact_match=float(correct), f1=float(correct),
                  rank=rank, citation_correct=correct)


RESULTS = [
    result("right", True, "1889", 0.9, True),
    result("wrong", True, "1887", 0.7, False, rank=3),
    result("missed", True, None, 0.2, False, rank=None),
    result("made-up", False, "1900 | or so", 0.6, False, rank=None),
    result("declined", False, None, 0.1, True, rank=None),
]


def test_the_report_lists_failures_definitions_and_the_run(tmp_path: Path) -> None:
    stamp = {"dataset": "towers", "commit": "abc1234"}
    summary = write_report(RESULTS, 0.5, tmp_path, "Evaluation: towers (5 cases)", stamp)
    text = (tmp_path / "summary.md").read_text(encoding="utf-8")
    failures = text.split("## Failures (3 of 5, most confident first)\n\n")[1].split("\n\n")[0]
    assert failures.splitlines() == [
        "| id | question | gold | answer | best guess | confidence | gold passage rank |",
        "|---|---|---|---|---|---|---|",
        "| wrong | Question wrong? | 1889 | 1887 | 1887 | 0.700 | 3 |",
        "| made-up | Question made-up? | (unanswerable) | 1900 \\| or so | 1900 \\| or so | "
        "0.600 | – |",
        "| missed | Question missed? | 1889 | (abstained) | a guess | 0.200 | not retrieved |",
    ]
    assert "## Run\n\n- dataset: towers\n- commit: abc1234\n" in text
    assert "## Definitions" in text and "- ece: expected calibration error" in text
    # Of unanswerable questions alone there is no precision to speak of.
    assert "| precision | 0.333 | 0.500 | – |" in text
    assert "precision" not in summary["kind=unanswerable"]
    assert json.loads((tmp_path / "results.json").read_text())["stamp"] == stamp
    for chart in ("reliability.png", "categories.png"):
        assert (tmp_path / chart).read_bytes().startswith(b"\x89PNG")
