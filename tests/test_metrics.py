"""Tests for rag.metrics against official SQuAD cases and hand-computed values."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from rag.metrics import (
    auroc,
    contains,
    exact_match,
    expected_calibration_error,
    first_relevant_rank,
    mrr,
    normalize_answer,
    percentile,
    precision_coverage,
    recall_at,
    token_f1,
    word_count,
)

# --- normalize_answer -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("The  Cat's, hat!", "cats hat"),
        ("Denver Broncos", "denver broncos"),
        ("an apple", "apple"),
        ("  A\tB\n C  ", "b c"),  # "a" is an article once lowercased
        ("the theatre", "theatre"),  # whole words only
        ("anthem and a banana", "anthem and banana"),
        ("U.S.A.", "usa"),
        ("", ""),
        ("!!!", ""),
        ("The", ""),
    ],
)
def test_normalize_answer(raw: str, expected: str) -> None:
    assert normalize_answer(raw) == expected


def test_normalize_answer_removes_punctuation_before_articles() -> None:
    # Official order: "the-end" -> "theend" (no article left); "(the)" -> "the" -> removed.
    assert normalize_answer("the-end") == "theend"
    assert normalize_answer("(the) end") == "end"


# --- exact_match ------------------------------------------------------------------------------


def test_exact_match_ignores_article_and_case() -> None:
    assert exact_match("the Denver Broncos", ["Denver Broncos"]) == 1.0


def test_exact_match_article_an() -> None:
    assert exact_match("an apple", ["apple"]) == 1.0


def test_exact_match_punctuation_and_whitespace() -> None:
    assert exact_match("  Denver,   Broncos! ", ["denver broncos"]) == 1.0


def test_exact_match_miss() -> None:
    assert exact_match("Denver Broncos won", ["Denver Broncos"]) == 0.0


def test_exact_match_max_over_golds() -> None:
    assert exact_match("Carolina Panthers", ["Denver Broncos", "the Carolina Panthers"]) == 1.0


def test_exact_match_none_prediction_and_empty_golds() -> None:
    assert exact_match(None, ["Denver Broncos"]) == 0.0
    assert exact_match("Denver Broncos", []) == 0.0


# --- token_f1 ---------------------------------------------------------------------------------


def test_token_f1_extra_token() -> None:
    # precision 2/3, recall 1 -> 2 * (2/3) / (5/3) = 0.8
    assert token_f1("Denver Broncos won", ["Denver Broncos"]) == pytest.approx(0.8)


def test_token_f1_missing_token() -> None:
    # precision 1, recall 1/2 -> 2/3
    assert token_f1("Broncos", ["Denver Broncos"]) == pytest.approx(2 / 3)


def test_token_f1_exact_and_normalised() -> None:
    assert token_f1("The Denver Broncos.", ["denver broncos"]) == pytest.approx(1.0)
    assert token_f1("an apple", ["apple"]) == pytest.approx(1.0)


def test_token_f1_counts_repeated_tokens_once_each() -> None:
    # Counter overlap: pred {new: 2, york: 1} & gold {new: 1, york: 1} -> 2 common tokens;
    # precision 2/3, recall 1 -> 0.8
    assert token_f1("new new york", ["new york"]) == pytest.approx(0.8)


def test_token_f1_max_over_golds() -> None:
    golds = ["Santa Clara", "Levi's Stadium in Santa Clara, California"]
    # vs gold 1: precision 2/2, recall 2/2 -> 1.0
    assert token_f1("Santa Clara", golds) == pytest.approx(1.0)
    # vs "Levi's Stadium": gold 2 tokens [levis, stadium, in, santa, clara, california]
    # precision 2/2, recall 2/6 -> 0.5; gold 1 has no overlap -> max 0.5
    assert token_f1("Levi's Stadium", golds) == pytest.approx(0.5)


def test_token_f1_no_overlap_and_degenerate() -> None:
    assert token_f1("Carolina Panthers", ["Denver Broncos"]) == 0.0
    assert token_f1(None, ["Denver Broncos"]) == 0.0
    assert token_f1("Denver", []) == 0.0
    # Official v1.1: no common tokens -> 0, even when both normalise to empty.
    assert token_f1("the", ["a"]) == 0.0


# --- contains ---------------------------------------------------------------------------------


def test_contains_normalised_substring() -> None:
    assert contains("It was the Denver Broncos, in 2016.", ["denver broncos"])


def test_contains_raw_case_insensitive_whitespace_normalised() -> None:
    # Normalised gold is empty ("The"), but raw case-folded containment still counts.
    assert contains("See  THE\nend", ["the"])
    assert contains("Price: $3.50 total", ["$3.50"])


def test_contains_empty_gold_is_not_a_hit() -> None:
    assert not contains("anything", [""])
    assert not contains("anything", ["   "])
    assert not contains("anything", [])


def test_contains_miss_and_none() -> None:
    assert not contains("Carolina Panthers", ["Denver Broncos"])
    assert not contains(None, ["Denver Broncos"])


def test_contains_any_gold() -> None:
    assert contains("The Panthers lost", ["Broncos", "panthers"])


# --- word_count -------------------------------------------------------------------------------


def test_word_count() -> None:
    assert word_count("one two  three\nfour") == 4
    assert word_count("") == 0
    assert word_count("   ") == 0
    assert word_count(None) == 0


# --- retrieval ranks --------------------------------------------------------------------------


def test_first_relevant_rank() -> None:
    assert first_relevant_rank([False, False, True, True]) == 3
    assert first_relevant_rank([True]) == 1
    assert first_relevant_rank([False, False]) is None
    assert first_relevant_rank([]) is None


def test_recall_at_hand_computed() -> None:
    ranks = [1, 3, None, 2]
    assert recall_at(ranks, 1) == pytest.approx(0.25)
    assert recall_at(ranks, 2) == pytest.approx(0.5)
    assert recall_at(ranks, 3) == pytest.approx(0.75)
    assert recall_at(ranks, 5) == pytest.approx(0.75)
    assert recall_at([], 5) == 0.0


def test_mrr_hand_computed() -> None:
    assert mrr([1, 3, None, 2]) == pytest.approx((1 + 1 / 3 + 0 + 1 / 2) / 4)
    assert mrr([None, None]) == 0.0
    assert mrr([]) == 0.0


# --- auroc ------------------------------------------------------------------------------------


def _pairwise_auroc(scores: list[float], labels: list[bool]) -> float:
    pos = [s for s, y in zip(scores, labels, strict=True) if y]
    neg = [s for s, y in zip(scores, labels, strict=True) if not y]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p, n in itertools.product(pos, neg))
    return wins / (len(pos) * len(neg))


def test_auroc_perfect_and_reversed() -> None:
    assert auroc([0.9, 0.8, 0.2, 0.1], [True, True, False, False]) == pytest.approx(1.0)
    assert auroc([0.9, 0.8, 0.2, 0.1], [False, False, True, True]) == pytest.approx(0.0)


def test_auroc_all_ties() -> None:
    assert auroc([0.5, 0.5, 0.5, 0.5], [True, False, True, False]) == pytest.approx(0.5)


def test_auroc_hand_computed_with_tie() -> None:
    # Pairs (pos, neg): (0.9, 0.5)=1, (0.9, 0.1)=1, (0.5, 0.5)=1/2, (0.5, 0.1)=1 -> 3.5/4
    assert auroc([0.9, 0.5, 0.5, 0.1], [True, True, False, False]) == pytest.approx(0.875)


def test_auroc_hand_computed_unsorted() -> None:
    # pos {0.4, 0.7}, neg {0.6, 0.2, 0.7}: 0.4 beats 0.2 -> 1; 0.7 beats 0.6, 0.2, ties 0.7 -> 2.5
    scores = [0.6, 0.4, 0.2, 0.7, 0.7]
    labels = [False, True, False, True, False]
    assert auroc(scores, labels) == pytest.approx(3.5 / 6)


def test_auroc_matches_pairwise_definition() -> None:
    rng = random.Random(0)
    for _ in range(20):
        n = rng.randint(2, 30)
        scores = [rng.choice([0.0, 0.25, 0.5, 0.75, 1.0]) for _ in range(n)]
        labels = [rng.random() < 0.5 for _ in range(n)]
        if all(labels) or not any(labels):
            continue
        assert auroc(scores, labels) == pytest.approx(_pairwise_auroc(scores, labels))


def test_auroc_none_when_a_class_is_empty() -> None:
    assert auroc([0.1, 0.9], [True, True]) is None
    assert auroc([0.1, 0.9], [False, False]) is None
    assert auroc([], []) is None


def test_auroc_length_mismatch() -> None:
    with pytest.raises(ValueError):
        auroc([0.1, 0.2], [True])


# --- expected_calibration_error ---------------------------------------------------------------


def test_ece_hand_computed() -> None:
    confidences = [0.05, 0.15, 0.95, 1.0, 0.92]
    correct = [False, True, True, True, False]
    # bin 0: {0.05}, acc 0, gap 0.05; bin 1: {0.15}, acc 1, gap 0.85;
    # bin 9: {0.95, 1.0, 0.92}, acc 2/3, mean conf 2.87/3, gap 0.87/3.
    expected = (1 * 0.05 + 1 * 0.85 + 3 * (0.87 / 3)) / 5
    assert expected_calibration_error(confidences, correct) == pytest.approx(expected)
    assert expected == pytest.approx(0.354)


def test_ece_two_bins_hand_computed() -> None:
    # bins=2: [0, 0.5) holds {0.2, 0.4} acc 1/2 conf 0.3 gap 0.2;
    # [0.5, 1] holds {0.5, 0.9, 1.0} acc 2/3 conf 0.8 gap 2/15.
    confidences = [0.2, 0.4, 0.5, 0.9, 1.0]
    correct = [True, False, True, True, False]
    expected = (2 * 0.2 + 3 * (2 / 15)) / 5
    assert expected_calibration_error(confidences, correct, bins=2) == pytest.approx(expected)


def test_ece_confidence_one_in_last_bin() -> None:
    assert expected_calibration_error([1.0, 1.0], [True, True]) == pytest.approx(0.0)
    assert expected_calibration_error([1.0], [False], bins=3) == pytest.approx(1.0)


def test_ece_perfectly_calibrated_and_empty() -> None:
    assert expected_calibration_error([0.5, 0.5], [True, False]) == pytest.approx(0.0)
    assert expected_calibration_error([], []) == 0.0


def test_ece_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        expected_calibration_error([0.5], [True], bins=0)
    with pytest.raises(ValueError):
        expected_calibration_error([0.5, 0.6], [True])


# --- precision_coverage -----------------------------------------------------------------------


def test_precision_coverage_hand_computed() -> None:
    confidences = [0.9, 0.8, 0.4, 0.7, 0.2]
    correct = [True, False, True, True, False]
    # answered (>= 0.7): 0.9 ok, 0.8 wrong, 0.7 ok -> precision 2/3, coverage 3/5
    precision, coverage = precision_coverage(confidences, correct, 0.7)
    assert precision == pytest.approx(2 / 3)
    assert coverage == pytest.approx(0.6)


def test_precision_coverage_threshold_zero_answers_all() -> None:
    precision, coverage = precision_coverage([0.0, 0.3], [True, False], 0.0)
    assert precision == pytest.approx(0.5)
    assert coverage == pytest.approx(1.0)


def test_precision_coverage_nothing_answered() -> None:
    assert precision_coverage([0.1, 0.2], [True, True], 0.5) == (0.0, 0.0)
    assert precision_coverage([], [], 0.5) == (0.0, 0.0)


# --- percentile -------------------------------------------------------------------------------


def test_percentile_linear_interpolation() -> None:
    values = [1.0, 2.0, 3.0, 4.0]
    assert percentile(values, 50) == pytest.approx(2.5)
    assert percentile(values, 0) == pytest.approx(1.0)
    assert percentile(values, 100) == pytest.approx(4.0)
    # position 0.9 * 3 = 2.7 -> 3 + 0.7 * (4 - 3)
    assert percentile(values, 90) == pytest.approx(3.7)
    assert percentile([4.0, 1.0, 3.0, 2.0], 90) == pytest.approx(float(np.percentile(values, 90)))


def test_percentile_empty_and_single() -> None:
    assert percentile([], 50) == 0.0
    assert percentile([7.0], 95) == pytest.approx(7.0)
