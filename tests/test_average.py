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
    c = _reader(tmp_path / "c", {"w": torch.tensor([5.0, 1.0]), "b": torch.tensor([2.0])}, "c")
    average([a, b, c], tmp_path / "mean")
    mean = load_file(tmp_path / "mean" / "model.safetensors")
    assert mean["w"].tolist() == [3.0, 3.0]
    assert mean["b"].tolist() == [1.0]
    assert (tmp_path / "mean" / "config.json").read_text() == "c"


def test_half_weights_stay_half_and_integer_ones_are_kept(tmp_path: Path) -> None:
    ids = torch.tensor([[0, 1, 2]])
    a = _reader(tmp_path / "a", {"w": torch.tensor([1.0], dtype=torch.float16), "ids": ids}, "a")
    b = _reader(tmp_path / "b", {"w": torch.tensor([2.0], dtype=torch.float16), "ids": ids}, "b")
    average([a, b], tmp_path / "mean")
    mean = load_file(tmp_path / "mean" / "model.safetensors")
    assert mean["w"].dtype == torch.float16 and mean["w"].tolist() == [1.5]
    assert mean["ids"].tolist() == [[0, 1, 2]]


@pytest.mark.parametrize("other", [{"v": torch.tensor([1.0])}, {"w": torch.tensor([1.0, 2.0])}])
def test_readers_of_different_weights_are_refused(tmp_path: Path,
                                                  other: dict[str, torch.Tensor]) -> None:
    a = _reader(tmp_path / "a", {"w": torch.tensor([1.0])}, "a")
    b = _reader(tmp_path / "b", other, "b")
    with pytest.raises(ValueError, match="average only stages of one model"):
        average([a, b], tmp_path / "mean")
    assert not (tmp_path / "mean").exists()


def test_a_run_folder_instead_of_its_final_folder_says_which(tmp_path: Path) -> None:
    a = _reader(tmp_path / "a", {"w": torch.tensor([1.0])}, "a")
    with pytest.raises(ValueError, match="final"):
        average([a, tmp_path], tmp_path / "mean")
