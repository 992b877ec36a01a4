"""Confidence: a logistic model over answer signals, fitted on evaluation data.

The coefficients and the abstention threshold live in rag/calibration.json; refit them
with `rag calibrate` (see README.md).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

from rag.extract import Candidate
from rag.question import Expect, Question

FEATURES = ("score", "similarity", "overlap", "typed", "untyped_expectation", "margin",
            "passage_dense", "passage_lexical", "context", "missing", "passage_overlap", "unknown",
            "context_similarity", "names_absent")
DEFAULT_PATH = Path(__file__).with_name("calibration.json")


@dataclass(frozen=True)
class Calibration:
    """Logistic coefficients over FEATURES, and the confidence below which we abstain."""

    weights: tuple[float, ...]
    bias: float
    threshold: float
    fitted_on: str = ""

    def probability(self, values: list[float]) -> float:
        """P(answer is right) for one feature vector."""
        z = self.bias + sum(w * x for w, x in zip(self.weights, values, strict=True))
        return 1.0 / (1.0 + math.exp(-max(min(z, 40.0), -40.0)))


# Used until `rag calibrate` has written rag/calibration.json.
UNFITTED = Calibration(weights=(2.0, 2.0, 4.0, 1.0, -1.5, 2.0, 1.0, 0.5, 1.0, -2.0, 1.0, -2.0,
                                1.0, -1.0), bias=-6.0, threshold=0.5,
                       fitted_on="unfitted defaults")


def features(question: Question, candidates: list[Candidate]) -> list[float]:
    """The signals of the best candidate, in FEATURES order."""
    best = candidates[0]
    runner_up = next((c.score for c in candidates[1:]), best.score - 1.0)
    expects = question.expect is not Expect.ANY
    return [best.score, best.similarity, best.overlap, float(best.typed),
            float(expects and not best.typed), best.score - runner_up,
            best.hit.dense, best.hit.lexical, best.context, best.missing,
            best.evidence.passage_overlap, best.evidence.unknown,
            best.evidence.context_similarity, best.evidence.names_absent]


def load_calibration(path: Path = DEFAULT_PATH) -> Calibration:
    """The fitted calibration, or UNFITTED when none has been written."""
    if not path.is_file():
        return UNFITTED
    data = json.loads(path.read_text(encoding="utf-8"))
    return Calibration(tuple(data["weights"]), data["bias"], data["threshold"],
                       data.get("fitted_on", ""))


def save_calibration(calibration: Calibration, path: Path = DEFAULT_PATH) -> None:
    """Write the calibration as JSON."""
    data = asdict(calibration) | {"features": list(FEATURES)}
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
