"""Pure evaluation metrics: SQuAD answer scores, retrieval ranks, ranking and calibration."""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence

import numpy as np

_PUNCTUATION = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_answer(s: str) -> str:
    """SQuAD v1.1 normalisation: lowercase, drop punctuation, drop articles, collapse spaces."""
    text = s.lower()
    text = "".join(ch for ch in text if ch not in _PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match(prediction: str | None, golds: Sequence[str]) -> float:
    """Best SQuAD exact match (1.0 or 0.0) of the prediction against any gold answer."""
    if prediction is None or not golds:
        return 0.0
    pred = normalize_answer(prediction)
    return max(float(pred == normalize_answer(gold)) for gold in golds)


def _f1_single(prediction: str, gold: str) -> float:
    """Official SQuAD v1.1 token F1 for one gold answer (0.0 when nothing overlaps)."""
    pred_tokens = normalize_answer(prediction).split()
    gold_tokens = normalize_answer(gold).split()
    num_same = sum((Counter(pred_tokens) & Counter(gold_tokens)).values())
    if num_same == 0:
        return 0.0
    precision = num_same / len(pred_tokens)
    recall = num_same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def token_f1(prediction: str | None, golds: Sequence[str]) -> float:
    """Best official SQuAD v1.1 token F1 of the prediction against any gold answer."""
    if prediction is None or not golds:
        return 0.0
    return max(_f1_single(prediction, gold) for gold in golds)


def _squash(text: str) -> str:
    """Casefold and collapse whitespace, keeping punctuation and articles."""
    return " ".join(text.casefold().split())


def contains(prediction: str | None, golds: Sequence[str]) -> bool:
    """Whether some non-empty gold occurs in the prediction, normalised or merely case-folded."""
    if prediction is None:
        return False
    pred_norm = normalize_answer(prediction)
    pred_raw = _squash(prediction)
    for gold in golds:
        gold_norm = normalize_answer(gold)
        if gold_norm and gold_norm in pred_norm:
            return True
        gold_raw = _squash(gold)
        if gold_raw and gold_raw in pred_raw:
            return True
    return False


def word_count(text: str | None) -> int:
    """Number of whitespace-separated words in the text (0 for None)."""
    return 0 if text is None else len(text.split())


def first_relevant_rank(relevant: Sequence[bool]) -> int | None:
    """1-based rank of the first relevant item, or None when none is relevant."""
    for i, is_relevant in enumerate(relevant, start=1):
        if is_relevant:
            return i
    return None


def recall_at(ranks: Sequence[int | None], k: int) -> float:
    """Fraction of queries whose first relevant rank is at most k (0.0 for no queries)."""
    if not ranks:
        return 0.0
    hits = sum(1 for rank in ranks if rank is not None and rank <= k)
    return hits / len(ranks)


def mrr(ranks: Sequence[int | None]) -> float:
    """Mean reciprocal rank, counting a missing rank as 0 (0.0 for no queries)."""
    if not ranks:
        return 0.0
    return sum(0.0 if rank is None else 1.0 / rank for rank in ranks) / len(ranks)


def _check_lengths(a: Sequence[object], b: Sequence[object]) -> None:
    """Raise ValueError unless the two sequences are equally long."""
    if len(a) != len(b):
        raise ValueError(f"length mismatch: {len(a)} != {len(b)}")


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks of the values, with tied values sharing their average rank."""
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    upper = np.cumsum(counts).astype(np.float64)
    average = upper - (counts - 1) / 2.0
    ranks: np.ndarray = average[inverse]
    return ranks


def auroc(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    """Area under the ROC curve via Mann-Whitney U (ties count 1/2); None if a class is empty."""
    _check_lengths(scores, labels)
    positive = np.asarray(labels, dtype=bool)
    n_pos = int(positive.sum())
    n_neg = positive.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    ranks = _average_ranks(np.asarray(scores, dtype=np.float64))
    u_stat = float(ranks[positive].sum()) - n_pos * (n_pos + 1) / 2.0
    return u_stat / (n_pos * n_neg)


def expected_calibration_error(
    confidences: Sequence[float], correct: Sequence[bool], bins: int = 10
) -> float:
    """Equal-width-bin ECE: bin-size-weighted mean |accuracy - mean confidence| (0.0 if empty)."""
    _check_lengths(confidences, correct)
    if bins < 1:
        raise ValueError(f"bins must be >= 1, got {bins}")
    if not confidences:
        return 0.0
    conf = np.asarray(confidences, dtype=np.float64)
    acc = np.asarray(correct, dtype=np.float64)
    # Bin i holds [i/bins, (i+1)/bins); confidence 1.0 is clipped into the last bin.
    index = np.clip(np.floor(conf * bins).astype(np.int64), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        members = index == b
        count = int(members.sum())
        if count:
            total += count * abs(float(acc[members].mean()) - float(conf[members].mean()))
    return total / conf.size


def precision_coverage(
    confidences: Sequence[float], correct: Sequence[bool], threshold: float
) -> tuple[float, float]:
    """(precision, coverage) answering when confidence >= threshold; precision 0.0 if none is."""
    _check_lengths(confidences, correct)
    answered = [ok for conf, ok in zip(confidences, correct, strict=True) if conf >= threshold]
    if not answered:
        return 0.0, 0.0
    precision = sum(1 for ok in answered if ok) / len(answered)
    return precision, len(answered) / len(confidences)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) with numpy's linear interpolation; 0.0 for no values."""
    if not values:
        return 0.0
    return float(np.percentile(np.asarray(values, dtype=np.float64), q, method="linear"))
