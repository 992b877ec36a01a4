"""Run evaluation cases through the Pipeline and score retrieval, answers and abstention."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rag import metrics
from rag.cases import Case, GoldSpan
from rag.errors import ConfigError
from rag.folds import TRAINED_ON_FILE, read_trained_on, reader_for
from rag.followup import Turn, standalone_question
from rag.pipeline import Pipeline, Prediction
from rag.reader.onnx_reader import Reader
from rag.records import Answer

DEPTH = 20  # passages asked for, so recall@20 can be measured


@dataclass
class Result:
    """One case's prediction and scores."""

    id: str
    question: str
    kind: str
    category: str
    answerable: bool
    golds: list[str]
    prediction: str | None
    best_guess: str | None  # the top candidate even when abstaining
    confidence: float
    correct: bool  # gold contained in the answer (answerable), or abstained (unanswerable)
    guess_correct: bool  # gold contained in best_guess: the target of calibration
    exact_match: float
    f1: float
    words: int
    rank: int | None  # first passage holding a gold span
    citation_ok: bool  # the cited span is document_text[start:end] and equals the answer
    citation_correct: bool  # ...and it holds a gold answer
    standalone_question: str | None
    timings: dict[str, float] = field(default_factory=dict)
    features: dict[str, float] = field(default_factory=dict)


def run_case(pipeline: Pipeline, case: Case) -> Result:
    """Ask one case (replaying its history as a conversation) and score the answer."""
    turns: list[Turn] = []
    for earlier in case.history:
        turns.append(Turn("user", earlier))
        reply = pipeline.chat(turns, k=5)
        turns.append(Turn("assistant", reply.answer or ""))
    turns.append(Turn("user", case.question))
    standalone = standalone_question(turns) if case.history else None
    return score(pipeline, case, pipeline.predict(case.question, DEPTH, standalone))


def score(pipeline: Pipeline, case: Case, prediction: Prediction) -> Result:
    """Scores of one answer against its case."""
    answer = prediction.answer
    golds = list(case.answers)
    guess = answer.answer if answer.answer is not None else (answer.guess or None)
    relevant = [_holds_gold(p.doc_id, p.start, p.end, case.spans) for p in answer.passages]
    correct = (metrics.contains(answer.answer, golds) if case.answerable
               else answer.answer is None)
    return Result(
        id=case.id, question=case.question, kind=case.kind, category=case.category,
        answerable=case.answerable, golds=golds, prediction=answer.answer, best_guess=guess,
        confidence=answer.confidence, correct=correct,
        guess_correct=metrics.contains(guess, golds) if case.answerable else False,
        exact_match=metrics.exact_match(answer.answer, golds),
        f1=metrics.token_f1(answer.answer, golds), words=metrics.word_count(answer.answer),
        rank=metrics.first_relevant_rank(relevant) if case.answerable else None,
        citation_ok=_citation_ok(pipeline, answer, []),
        citation_correct=_citation_ok(pipeline, answer, golds) and answer.answer is not None,
        standalone_question=answer.standalone_question, timings=dict(answer.timings),
        features=dict(prediction.features),
    )


def run(pipeline: Pipeline, cases: Iterable[Case],
        progress: Callable[[int], None] | None = None,
        pipeline_for: Callable[[int], Pipeline] | None = None) -> list[Result]:
    """Every case through the pipeline (the i-th through `pipeline_for(i)`), in order."""
    results = []
    for i, case in enumerate(cases):
        results.append(run_case(pipeline_for(i) if pipeline_for else pipeline, case))
        if progress:
            progress(i + 1)
    return results


def run_folds(pipeline: Pipeline, readers: Sequence[Reader],
              held_out: Sequence[frozenset[str]], cases: Sequence[Case],
              progress: Callable[[int], None] | None = None) -> list[Result]:
    """Every case answered by the one reader of `readers` that held its article out of
    training (`held_out`, by position): readers trained on part of a benchmark's articles,
    each scored on the questions it did not see."""
    chosen = [reader_for(case.category, held_out) for case in cases]  # all checked first
    pipelines = [Pipeline(pipeline.index, pipeline.encoder, r, pipeline.calibration,
                          pipeline.choice) for r in readers]
    return run(pipeline, cases, progress, lambda i: pipelines[chosen[i]])


def open_fold_readers(folders: Sequence[Path]) -> tuple[list[Reader], list[frozenset[str]]]:
    """The exported readers in `folders` and the articles each held out of training."""
    from rag.reader.onnx_reader import MODEL_FILE, OnnxReader

    for folder in folders:
        if not (folder / MODEL_FILE).is_file():
            raise ConfigError(f"no {MODEL_FILE} in {folder}: give the folders "
                              "`python -m rag.reader.export` wrote for the fold readers")
        if not read_trained_on(folder).held_out:
            raise ConfigError(f"{folder} names no held-out articles in its {TRAINED_ON_FILE}: "
                              "export a reader trained with --squad2 and --hold-out")
    return ([OnnxReader(folder) for folder in folders],
            [read_trained_on(folder).held_out for folder in folders])


def _holds_gold(doc_id: str, start: int, end: int, spans: Sequence[GoldSpan]) -> bool:
    return any(s.doc_id == doc_id and start <= s.start and s.end <= end for s in spans)


def _citation_ok(pipeline: Pipeline, answer: Answer, golds: list[str]) -> bool:
    """The first citation is the answer, verbatim at its offsets, and holds a gold."""
    if answer.answer is None or not answer.citations:
        return answer.answer is None
    c = answer.citations[0]
    text = pipeline.index.documents[c.doc_id].text
    return (text[c.start : c.end] == answer.answer == c.text
            and (not golds or metrics.contains(c.text, golds)))


def summarize(results: Sequence[Result], threshold: float) -> dict[str, Any]:
    """Retrieval, answer, abstention and latency metrics over a set of results."""
    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if not r.answerable]
    ranks = [r.rank for r in answerable]
    confidences = [r.confidence for r in results]
    right = [r.guess_correct for r in results]
    out: dict[str, Any] = {"cases": len(results), "answerable": len(answerable),
                           "unanswerable": len(unanswerable)}
    if answerable:
        out |= {
            "recall@1": metrics.recall_at(ranks, 1), "recall@5": metrics.recall_at(ranks, 5),
            "recall@20": metrics.recall_at(ranks, 20), "mrr": metrics.mrr(ranks),
            "answered_correct": _mean(r.correct for r in answerable),
            "guess_contains_gold": _mean(r.guess_correct for r in answerable),
            "exact_match": _mean(r.exact_match for r in answerable),
            "f1": _mean(r.f1 for r in answerable),
            "guess_f1": _mean(metrics.token_f1(r.best_guess, r.golds) for r in answerable),
            "median_words": metrics.percentile(
                [float(metrics.word_count(r.best_guess)) for r in answerable], 50),
            "false_abstention": _mean(r.prediction is None for r in answerable),
        }
    if unanswerable:
        out["abstention"] = _mean(r.prediction is None for r in unanswerable)
    out["citation_ok"] = _mean(r.citation_ok for r in results)
    if answerable:
        out["citation_correct"] = _mean(r.citation_correct for r in answerable)
    out["auroc"] = metrics.auroc([r.confidence for r in results],
                                 [r.answerable and r.guess_correct for r in results])
    if answerable and unanswerable:
        out["auroc_answerable"] = metrics.auroc([r.confidence for r in results],
                                                [r.answerable for r in results])
    out["ece"] = metrics.expected_calibration_error(confidences, right)
    out["threshold"] = threshold
    if answerable:  # of unanswerable questions alone, every answer is wrong: no precision
        precision, coverage = metrics.precision_coverage(confidences, right, threshold)
        out |= {"precision": precision, "coverage": coverage}
    for stage in sorted({s for r in results for s in r.timings}):
        values = [r.timings[stage] for r in results if stage in r.timings]
        out[f"{stage}_ms_p50"] = metrics.percentile(values, 50)
        out[f"{stage}_ms_p95"] = metrics.percentile(values, 95)
    return out


def _mean(values: Iterable[float | bool]) -> float:
    items = [float(v) for v in values]
    return sum(items) / len(items) if items else 0.0


def as_dict(result: Result) -> dict[str, Any]:
    """A JSON-ready record of one result."""
    return asdict(result)
