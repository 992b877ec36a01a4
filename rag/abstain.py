"""Abstention: a logistic model over the reader's and retrieval's signals, by name.

Each proposed span gets the FEATURES below; the fitted weights (rag/calibration.json, written
by `rag calibrate`) turn them into the probability that the span is right, and the pipeline
abstains below the fitted threshold. Weights are stored and read by feature name.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from rag.lexical import coverage, term_set
from rag.reader.windows import Window
from rag.records import AnswerSpan

FEATURES = ("margin", "score", "probability", "lead", "window_score", "similarity",
            "passage", "passage_dense", "passage_lexical", "unknown", "names_absent",
            "overlap", "missing")
DEFAULT_PATH = Path(__file__).with_name("calibration.json")


@dataclass(frozen=True)
class Calibration:
    """Logistic weights by feature name, and the confidence below which we abstain."""

    weights: dict[str, float]
    bias: float
    threshold: float
    fitted_on: str = ""

    def probability(self, values: dict[str, float]) -> float:
        """P(answer is right) for one span's features."""
        z = self.bias + sum(w * values[name] for name, w in self.weights.items())
        return 1.0 / (1.0 + math.exp(-max(min(z, 40.0), -40.0)))


# Used until `rag calibrate` has written rag/calibration.json: the margin alone.
UNFITTED = Calibration(weights={"margin": 0.5}, bias=-1.0, threshold=0.5,
                       fitted_on="unfitted defaults")


@dataclass(frozen=True)
class Question:
    """What every span's features read from the question, computed once."""

    idf: dict[str, float]  # its terms' idf over the indexed chunks
    unknown: float  # share of its idf from words no document holds
    names: tuple[str, ...]  # its names and numbers (capitalised after the first word, digits)


def read_question(question: str, idf: dict[str, float], vocab: Collection[str]) -> Question:
    """The question-level signals from its terms' `idf` and the indexed `vocab`: unknown
    words and the names it mentions."""
    words = _WORD.findall(question)[1:]
    names = tuple(w.strip("’'-") for w in words
                  if w[:1].isupper() or any(ch.isdigit() for ch in w))
    return Question(idf, coverage(idf, [t for t in idf if t not in vocab]), names)


def features(span: AnswerSpan, spans: list[AnswerSpan], windows: list[Window],
             question: Question, top_passage: float) -> dict[str, float]:
    """The signals of one span among all those proposed for the question."""
    window = windows[span.window]
    others = [s.margin for s in spans if not _same(s, span)]
    lowered = window.text.lower()
    absent = (sum(1 for n in question.names if n.lower() not in lowered) / len(question.names)
              if question.names else 0.0)
    held = term_set(window.text)
    heaviest = max(question.idf.values(), default=0.0) or 1.0
    return {
        "margin": span.margin, "score": span.score, "probability": span.probability,
        "lead": span.margin - max(others, default=span.margin - 10.0),
        "window_score": window.score, "similarity": window.similarity,
        "passage": window.hit.score / (top_passage or 1.0), "passage_dense": window.hit.dense,
        "passage_lexical": window.hit.lexical, "unknown": question.unknown,
        "names_absent": absent, "overlap": coverage(question.idf, held),
        # The weightiest question word the window lacks: an unanswerable question often
        # hinges on one word the passage does not have.
        "missing": max((w for t, w in question.idf.items() if t not in held), default=0.0)
        / heaviest,
    }


def _same(a: AnswerSpan, b: AnswerSpan) -> bool:
    """Whether two spans overlap in one document (one answer, cut two ways)."""
    return a.doc_id == b.doc_id and a.start < b.end and b.start < a.end


def load_calibration(path: Path = DEFAULT_PATH) -> Calibration:
    """The fitted calibration, or UNFITTED when none has been written."""
    if not path.is_file():
        return UNFITTED
    data = json.loads(path.read_text(encoding="utf-8"))
    unknown = set(data["weights"]) - set(FEATURES)
    if unknown:
        raise ValueError(f"{path} weighs unknown features {sorted(unknown)}: "
                         "run `rag calibrate` to refit it.")
    return Calibration(dict(data["weights"]), data["bias"], data["threshold"],
                       data.get("fitted_on", ""))


def save_calibration(calibration: Calibration, path: Path = DEFAULT_PATH) -> None:
    """Write the calibration as JSON, weights by feature name."""
    data = {"weights": calibration.weights, "bias": calibration.bias,
            "threshold": calibration.threshold, "fitted_on": calibration.fitted_on}
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


_WORD = re.compile(r"[\w’'-]+")
