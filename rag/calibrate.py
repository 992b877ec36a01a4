"""Fit the confidence model and the abstention threshold on evaluation results.

Labels: an answerable case is positive when its best span contains a gold answer; an
unanswerable case is always negative. The logistic model is fitted on every result given
(each set weighing the same); the threshold is chosen on the primary set (the project's own
cases) to maximise answering what can be answered plus abstaining on what cannot.
`cross_validate` reports a set as it would fare on cases it was not fitted on;
`returned_held_out` does the same for SQuAD v1.1's answers as returned.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Mapping, Sequence

import numpy as np

from rag import metrics
from rag.abstain import FEATURES, Calibration
from rag.evaluate import Result


def fit_calibration(results: Mapping[str, Sequence[Result]], primary: str) -> Calibration:
    """A Calibration fitted on all `results`, its threshold chosen on `results[primary]`."""
    from sklearn.linear_model import LogisticRegression

    groups = {name: [r for r in group if r.features] for name, group in results.items()}
    rows = [r for group in groups.values() for r in group]
    x = np.array([[r.features[f] for f in FEATURES] for r in rows], dtype=np.float64)
    y = np.array([r.answerable and r.guess_correct for r in rows], dtype=np.int64)
    if len(set(y.tolist())) < 2:
        raise ValueError("calibration needs both right and wrong answers in the results")
    weight = np.concatenate([np.full(len(g), 1.0 / len(g)) for g in groups.values() if g])
    model = LogisticRegression(C=1.0, max_iter=5000)
    model.fit(x, y, sample_weight=weight * len(rows))
    calibration = Calibration(dict(zip(FEATURES, map(float, model.coef_[0]), strict=True)),
                              float(model.intercept_[0]), 0.5,
                              fitted_on=", ".join(f"{n} ({len(g)})" for n, g in groups.items()))
    threshold = choose_threshold(calibration, results[primary])
    return Calibration(calibration.weights, calibration.bias, threshold, calibration.fitted_on)


def choose_threshold(calibration: Calibration, results: Sequence[Result]) -> float:
    """The threshold that maximises answerable answered right plus unanswerable abstained
    (Youden's J), ties broken by the worse of the two."""
    best, best_key = 0.5, (-1.0, -1.0)
    scored = [(_confidence(calibration, r), r) for r in results]
    for threshold in sorted({round(p, 4) for p, _ in scored} | {0.5}):
        rates = _rates(scored, threshold)
        key = (sum(rates), min(rates))
        if key > best_key:
            best, best_key = threshold, key
    return best


def cross_validate(results: Mapping[str, Sequence[Result]], primary: str, held: str,
                   folds: int = 5, shuffles: int = 5) -> dict[str, float | None]:
    """Set `held` as it fares on cases it was not fitted on: each fold scored by a model
    fitted (its threshold chosen on `primary`) without that fold; the mean over seeded
    shuffles. The SQuAD sets fold by article, so no article is on both sides."""
    right, abstained, auroc = [], [], []
    for scored in _held_out(results, primary, held, results[held], folds, shuffles):
        right.append(_mean(p >= t and r.guess_correct for p, r, t in scored if r.answerable))
        abstained.append(_mean(p < t for p, r, t in scored if not r.answerable))
        auroc.append(metrics.auroc([p for p, _, _ in scored], [r.answerable for _, r, _ in scored]))
    found = [a for a in auroc if a is not None]
    return {"answered_correct": float(np.mean(right)), "abstention": float(np.mean(abstained)),
            "auroc_answerable": float(np.mean(found)) if found else None}


def returned_held_out(results: Mapping[str, Sequence[Result]], primary: str,
                      squad: Sequence[Result], folds: int = 5,
                      shuffles: int = 5) -> dict[str, float]:
    """SQuAD v1.1's EM and F1 as returned, each article's questions scored by a calibration
    fitted without that article (its SQuAD 2.0 questions are the same paragraphs)."""
    em, f1 = [], []
    for scored in _held_out(results, primary, "squad", squad, folds, shuffles):
        kept = [(p >= t, r) for p, r, t in scored]
        em.append(_mean(metrics.exact_match(r.best_guess, r.golds) if on else 0.0
                           for on, r in kept))
        f1.append(_mean(metrics.token_f1(r.best_guess, r.golds) if on else 0.0
                           for on, r in kept))
    return {"exact_match": 100 * float(np.mean(em)), "f1": 100 * float(np.mean(f1))}


def _held_out(results: Mapping[str, Sequence[Result]], primary: str, held: str,
              cases: Sequence[Result], folds: int,
              shuffles: int) -> Iterator[list[tuple[float, Result, float]]]:
    """Per seeded shuffle: every case of `cases` with the confidence and threshold of a
    calibration fitted without its fold (of articles, for SQuAD; left out of every SQuAD
    set fitted on)."""
    groups = sorted({_group(held, r) for r in cases})
    for seed in range(shuffles):
        order = groups[:]
        random.Random(seed).shuffle(order)
        scored = []
        for fold in range(folds):
            test = set(order[fold::folds])
            train = {name: [r for r in group if not (_group(name, r) in test
                                                     and (name == held or _squad(held, name)))]
                     for name, group in results.items()}
            calibration = fit_calibration(train, primary)
            scored += [(_confidence(calibration, r), r, calibration.threshold)
                       for r in cases if _group(held, r) in test]
        yield scored


def _squad(a: str, b: str) -> bool:
    """Whether sets `a` and `b` are both SQuAD parts (the same articles)."""
    return a.startswith("squad") and b.startswith("squad")


def _group(name: str, result: Result) -> str:
    return result.category if name.startswith("squad") else result.id


def _mean(values: Iterable[float]) -> float:
    items = list(values)
    return sum(items) / len(items) if items else 0.0


def _confidence(calibration: Calibration, result: Result) -> float:
    return calibration.probability(result.features) if result.features else 0.0


def _rates(scored: list[tuple[float, Result]], threshold: float) -> tuple[float, float]:
    right = [p >= threshold and r.guess_correct for p, r in scored if r.answerable]
    held = [p < threshold for p, r in scored if not r.answerable]
    return (sum(right) / max(len(right), 1), sum(held) / max(len(held), 1))


def describe(calibration: Calibration) -> str:
    """The fitted coefficients, one per line, for the closing report."""
    lines = [f"{name}: {w:+.3f}" for name, w in calibration.weights.items()]
    return "\n".join([*lines, f"bias: {calibration.bias:+.3f}",
                      f"threshold: {calibration.threshold:.4f}"])
