"""Fitting the confidence model and scoring it on cases it was not fitted on, with results
written here: a margin that tells right answers from unanswerable questions."""

from __future__ import annotations

from conftest import scored

from rag.abstain import FEATURES
from rag.calibrate import cross_validate, fit_calibration, returned_held_out
from rag.evaluate import Result


def _result(i: int, article: str, answerable: bool, margin: float) -> Result:
    gold = f"answer {i}"
    return scored(f"q{i}", answerable, category=article, golds=[gold] if answerable else [],
                  best_guess=gold if answerable else "something", guess_correct=answerable,
                  features=dict.fromkeys(FEATURES, 0.0) | {"margin": margin})


def _results() -> dict[str, list[Result]]:
    own = [_result(i, "own", i % 3 != 0, 4.0 if i % 3 else -4.0) for i in range(30)]
    squad2 = [_result(100 + i, f"article {i % 10}", i % 2 == 0, 5.0 if i % 2 == 0 else -5.0)
              for i in range(60)]
    return {"own": own, "squad2": squad2}


def test_a_margin_that_separates_is_weighed_up() -> None:
    calibration = fit_calibration(_results(), primary="own")
    assert calibration.weights["margin"] > 0
    assert calibration.probability(dict.fromkeys(FEATURES, 0.0) | {"margin": 4.0}) > \
        calibration.threshold > calibration.probability(dict.fromkeys(FEATURES, 0.0)
                                                        | {"margin": -4.0})


def test_held_out_scores_on_cases_left_out_of_the_fit() -> None:
    results = _results()
    held = cross_validate(results, primary="own", held="squad2", folds=5, shuffles=2)
    assert held == {"answered_correct": 1.0, "abstention": 1.0, "auroc_answerable": 1.0}
    squad = [r for r in results["squad2"] if r.answerable]
    assert returned_held_out(results, "own", squad, folds=5, shuffles=2) == {
        "exact_match": 100.0, "f1": 100.0}
