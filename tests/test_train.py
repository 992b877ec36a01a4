"""Training windows of a run with --squad2: the SQuAD 2.0 part's questions join the sample,
less the articles of the fold held out (tokenised as training reads them)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from test_examples import _squad, _squad2

from rag.folds import article_folds
from rag.reader import train
from rag.reader.onnx_reader import MODEL_DIR
from rag.reader.tokens import load_tokenizer


def _features(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hold_out: int) -> list:
    out = tmp_path / f"run{hold_out}"
    out.mkdir()
    monkeypatch.setattr(sys, "argv", [
        "train", "--data", str(_squad(tmp_path)), "--squad2", str(_squad2(tmp_path)),
        "--hold-out", str(hold_out), "--negatives", "0", "--out", str(out)])
    args = train._arguments()
    return list(zip(*train._features(args, load_tokenizer(MODEL_DIR / "tokenizer.json")),
                    strict=True))


def test_squad2_windows_join_and_a_held_out_fold_leaves(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    every = _features(tmp_path, monkeypatch, hold_out=-1)
    # 4 SQuAD v1.1 positives; from the v2 file 2 answerable and 1 unanswerable (the one
    # without a plausible answer gives no window).
    assert len(every) == 7
    assert sum(1 for _, _, start, end in every if (start, end) == (0, 0)) == 1
    dam = article_folds(["Dam", "Lake"])["Dam"]
    without_dam = _features(tmp_path, monkeypatch, hold_out=dam)
    assert len(without_dam) == 5
    assert all(start != 0 for _, _, start, _ in without_dam)
