"""The two encoders: ONNX Runtime (default) reproduces sentence-transformers on torch."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rag.config import Settings
from rag.embed import Encoder, TorchEncoder
from rag.errors import ConfigError
from rag.export import onnx_folder
from rag.onnx_encoder import OnnxEncoder

TEXTS = ["", "?", "Who leads AQIM?", "Ünïcödé, 日本語 and emoji 🙂", "tab\tand\nnewline",
         "x" * 300, " ".join(["word"] * 400),
         "Al-Qaeda in the Islamic Maghreb emerged from the GSPC in 2007. " * 5]


def test_onnx_vectors_equal_sentence_transformers_on_torch(encoder: Encoder) -> None:
    assert isinstance(encoder, OnnxEncoder)
    reference = TorchEncoder(Settings().model_path).encode(TEXTS)
    ours = encoder.encode(TEXTS)
    assert ours.shape == (len(TEXTS), 384) and ours.dtype == np.float32
    assert np.abs(ours - reference).max() < 1e-5
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_batches_keep_order_and_equal_single_queries(encoder: Encoder) -> None:
    batched = encoder.encode(TEXTS)
    singles = np.stack([encoder.encode_query(t) for t in TEXTS])
    assert np.abs(batched - singles).max() < 1e-5
    assert encoder.encode([]).shape == (0, 384)


def test_the_export_is_cached_and_names_its_source() -> None:
    settings = Settings()
    folder = onnx_folder(settings.model_path, settings.cache_dir)
    assert onnx_folder(settings.model_path, settings.cache_dir) == folder
    meta = json.loads((folder / "encoder.json").read_text())
    assert meta["dimension"] == 384 and meta["max_seq_length"] == 256
    assert meta["source"] == settings.model_path


def test_the_export_cache_is_one_per_user(monkeypatch: pytest.MonkeyPatch,
                                          tmp_path: Path) -> None:
    import platformdirs

    monkeypatch.delenv("RAG_CACHE_DIR", raising=False)
    monkeypatch.chdir(tmp_path)  # wherever the user stands
    assert Settings().cache_dir == platformdirs.user_cache_path("rag")
    monkeypatch.setenv("RAG_CACHE_DIR", str(tmp_path / "mine"))
    assert Settings().cache_dir == tmp_path / "mine"


def test_two_first_runs_at_once_export_once_each_saying_one_line(tmp_path: Path) -> None:
    """Two processes that find no export both make one; one rename wins, the other's
    staging folder goes; each prints one plain line and nothing of the libraries'."""
    script = ("from rag.config import Settings\nfrom rag.embed import open_encoder\n"
              "print(open_encoder(Settings()).encode_query('bees').shape)\n")
    env = {**os.environ, "RAG_CACHE_DIR": str(tmp_path / "cache")}
    runs = [subprocess.Popen([sys.executable, "-c", script], env=env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0, 0]
    folders = sorted((tmp_path / "cache").iterdir())
    assert [f.name.startswith("onnx-") for f in folders] == [True]
    for stdout, stderr in outputs:
        assert stdout == "(384,)\n"
        assert stderr == ("Preparing the embedding model for ONNX Runtime, once per user "
                          f"(about 15 s): {folders[0]}\n")


def test_a_model_with_other_pooling_is_refused_with_advice(tmp_path: Path) -> None:
    model = tmp_path / "model"
    shutil.copytree(Settings().model_path, model)
    pooling = model / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text())
    config.update(pooling_mode_mean_tokens=False, pooling_mode_cls_token=True)
    pooling.write_text(json.dumps(config))
    with pytest.raises(ConfigError, match="RAG_ENCODER=torch"):
        onnx_folder(str(model), tmp_path / "cache")
    assert not list((tmp_path / "cache").glob("onnx-*"))


def test_an_unwritable_cache_says_what_to_set(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ConfigError, match="RAG_CACHE_DIR"):
        onnx_folder(Settings().model_path, blocker / "cache")


def test_a_missing_model_folder_says_what_to_set(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="RAG_MODEL_PATH"):
        onnx_folder(str(tmp_path / "nowhere"), tmp_path / "cache")


def test_asking_does_not_import_torch(tmp_path: Path, encoder: Encoder) -> None:
    """The query path loads in well under a second because torch never enters the process."""
    script = (
        "import sys\n"
        "from rag.config import Settings\n"
        "from rag.embed import open_encoder\n"
        "open_encoder(Settings()).encode_query('When was AQIM founded?')\n"
        "import rag.pipeline, rag.api, rag.cli\n"
        "print(sorted(m for m in ('torch', 'transformers', 'sentence_transformers', 'sklearn')"
        " if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
