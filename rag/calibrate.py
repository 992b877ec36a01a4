"""Fit the confidence model and the abstention threshold on evaluation results.

Labels: an answerable case is positive when its best candidate contains a gold answer;
an unanswerable case is always negative. The logistic model is fitted on every result
given; the threshold is chosen on the primary set (the project's own cases) to balance
answering what can be answered against abstaining on what cannot.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from rag.confidence import FEATURES, Calibration
from rag.evaluate import Result


def fit_calibration(results: Mapping[str, Sequence[Result]], primary: str) -> Calibration:
    """A Calibration fitted on all `results`, its threshold chosen on `results[primary]`."""
    from sklearn.linear_model import LogisticRegression

    rows = [r for group in results.values() for r in group if r.features]
    x = np.array([r.features for r in rows], dtype=np.float64)
    y = np.array([r.answerable and r.guess_correct for r in rows], dtype=np.int64)
    if len(set(y.tolist())) < 2:
        raise ValueError("calibration needs both right and wrong answers in the results")
    # Each set weighs the same, however many cases it has.
    sizes = {name: sum(1 for r in group if r.features) for name, group in results.items()}
    weight = np.array([1.0 / sizes[name] for name, group in results.items()
                       for r in group if r.features])
    model = LogisticRegression(C=1.0, max_iter=2000)
    model.fit(x, y, sample_weight=weight * len(rows))
    calibration = Calibration(tuple(float(w) for w in model.coef_[0]),
                              float(model.intercept_[0]), 0.5,
                              fitted_on=", ".join(f"{n} ({sizes[n]})" for n in results))
    threshold = choose_threshold(calibration, results[primary])
    return Calibration(calibration.weights, calibration.bias, threshold, calibration.fitted_on)


def choose_threshold(calibration: Calibration, results: Sequence[Result]) -> float:
    """The threshold that maximises the worse of (answerable answered right, unanswerable
    abstained), ties broken by their sum."""
    scored = [(calibration.probability(r.features) if r.features else 0.0, r) for r in results]
    answerable = [(p, r.guess_correct) for p, r in scored if r.answerable]
    unanswerable = [p for p, r in scored if not r.answerable]
    best, best_key = 0.5, (-1.0, -1.0)
    for threshold in sorted({round(p, 4) for p, _ in scored} | {0.5}):
        right = sum(1 for p, ok in answerable if ok and p >= threshold) / max(len(answerable), 1)
        held = sum(1 for p in unanswerable if p < threshold) / max(len(unanswerable), 1)
        key = (min(right, held), right + held)
        if key > best_key:
            best, best_key = threshold, key
    return best


def describe(calibration: Calibration) -> str:
    """The fitted coefficients, one per line, for the closing report."""
    lines = [f"{name}: {w:+.3f}" for name, w in zip(FEATURES, calibration.weights, strict=True)]
    return "\n".join([*lines, f"bias: {calibration.bias:+.3f}",
                      f"threshold: {calibration.threshold:.4f}"])
