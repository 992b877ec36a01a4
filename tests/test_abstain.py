"""The abstention model: weights stored and read by feature name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.abstain import FEATURES, Calibration, load_calibration, save_calibration


def test_round_trip_by_name(tmp_path: Path) -> None:
    calibration = Calibration({"margin": 0.5, "lead": 0.25}, -1.0, 0.4, "test")
    save_calibration(calibration, tmp_path / "c.json")
    loaded = load_calibration(tmp_path / "c.json")
    assert loaded == calibration
    values = dict.fromkeys(FEATURES, 0.0) | {"margin": 4.0, "lead": 2.0}
    assert loaded.probability(values) == pytest.approx(1 / (1 + pow(2.718281828459045, -1.5)))


def test_unknown_feature_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"weights": {"typed": 1.0}, "bias": 0.0, "threshold": 0.5}))
    with pytest.raises(ValueError, match="unknown features.*rag calibrate"):
        load_calibration(path)


def test_shipped_calibration_weighs_known_features() -> None:
    calibration = load_calibration()
    assert set(calibration.weights) <= set(FEATURES)
    assert 0.0 < calibration.threshold < 1.0
