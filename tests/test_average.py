"""Averaging trained readers: the element-wise mean of their weights, the last one's files."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from rag.reader.average import average


def _reader(folder: Path, weights: dict[str, torch.Tensor], config: str) -> Path:
    folder.mkdir()
    save_file(weights, folder / "model.safetensors")
    (folder / "config.json").write_text(config)
    (folder / "tokenizer.json").write_text("{}")
    return folder


def test_average_is_the_mean_of_every_weight(tmp_path: Path) -> None:
    a = _reader(tmp_path / "a", {"w": torch.tensor([1.0, 2.0]), "b": torch.tensor([0.0])}, "a")
    b = _reader(tmp_path / "b", {"w": torch.tensor([3.0, 6.0]), "b": torch.tensor([1.0])}, "b")
    average([a, b], tmp_path / "mean")
    mean = load_file(tmp_path / "mean" / "model.safetensors")
    assert mean["w"].tolist() == [2.0, 4.0]
    assert mean["b"].tolist() == [0.5]
    assert (tmp_path / "mean" / "config.json").read_text() == "b"


def test_readers_of_different_shapes_are_refused(tmp_path: Path) -> None:
    a = _reader(tmp_path / "a", {"w": torch.tensor([1.0])}, "a")
    b = _reader(tmp_path / "b", {"v": torch.tensor([1.0])}, "b")
    with pytest.raises(ValueError, match="same weights"):
        average([a, b], tmp_path / "mean")
    assert not (tmp_path / "mean").exists()
