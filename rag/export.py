"""The one-time export of a sentence-transformers model folder to ONNX, cached on disk.

Needs torch, transformers and onnx (all installed with the package) but runs once per model:
the folder lands in `<cache_dir>/onnx-<key>/`, keyed by the model files' paths, sizes and
modification times, and is swapped in with one rename, so two processes exporting at once
cannot mix files and a killed export leaves nothing half-written behind.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

from rag.errors import ConfigError
from rag.load import file_sha256
from rag.onnx_encoder import CONFIG_FILE, MODEL_FILE, TOKENIZER_FILE

log = logging.getLogger(__name__)
FORMAT = 1  # bump when the export changes what it writes: cached folders are made anew
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
SOURCE_FILES = ("model.safetensors", "config.json", TOKENIZER_FILE, "modules.json")


def onnx_folder(model_path: str, cache_dir: Path) -> Path:
    """The ONNX export of `model_path`, made first when the cache does not hold it yet."""
    folder = cache_dir / f"onnx-{_key(Path(model_path))}"
    if (folder / CONFIG_FILE).is_file():
        return folder
    # One plain line, not a log record: this is expected work, not a fault.
    print(f"Preparing the embedding model for ONNX Runtime, once per user (about 15 s): "
          f"{folder}", file=sys.stderr, flush=True)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=cache_dir, prefix=".export-") as tmp:
            staged = Path(tmp) / "onnx"
            export(Path(model_path), staged)
            try:
                os.rename(staged, folder)
            except OSError:
                if not (folder / CONFIG_FILE).is_file():  # not another process finishing first
                    raise
    except OSError as exc:
        raise ConfigError(f"Cannot write the model's ONNX export under {cache_dir} ({exc}): "
                          "set RAG_CACHE_DIR to a writable folder.") from exc
    return folder


def export(source: Path, folder: Path) -> None:
    """Write model.onnx (fp32, with ONNX Runtime's BERT fusions), tokenizer.json, encoder.json."""
    settings = _check_pipeline(source)
    import torch
    from transformers import AutoConfig, AutoModel
    from transformers.utils import logging as transformers_logging

    transformers_logging.set_verbosity_error()
    transformers_logging.disable_progress_bar()  # "Loading weights" of a local file: noise
    config = AutoConfig.from_pretrained(source)
    # Eager attention traces into the MatMul/Softmax pattern that ORT's optimiser fuses into
    # its Attention operator.
    model = AutoModel.from_pretrained(source, attn_implementation="eager").eval()

    class Hidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                    token_type_ids: torch.Tensor) -> torch.Tensor:
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state

    folder.mkdir(parents=True)
    trace_and_fuse(Hidden(), ["last_hidden_state"], config, folder / MODEL_FILE)
    shutil.copyfile(source / TOKENIZER_FILE, folder / TOKENIZER_FILE)
    meta = {"format": FORMAT, "dimension": int(config.hidden_size),
            "max_seq_length": int(settings.get("max_seq_length", 256)),
            "source": str(source), "sha256": file_sha256(source / "model.safetensors")}
    (folder / CONFIG_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")


def trace_and_fuse(module: Any, outputs: list[str], config: Any, path: Path) -> None:
    """Export a BERT `module` (input_ids, attention_mask, token_type_ids -> `outputs`) to
    ONNX at `path`, with ONNX Runtime's BERT fusions."""
    import torch
    from onnxruntime.transformers.optimizer import optimize_model

    ids = torch.full((2, 16), 1000, dtype=torch.int64)
    mask = torch.ones_like(ids)
    mask[1, 8:] = 0
    axes = {name: {0: "batch", 1: "tokens"} for name in (*INPUTS, *outputs)}
    raw = path.with_name(f"{path.stem}.raw.onnx")
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's tracer and deprecation notes
        torch.onnx.export(module, (ids, mask, torch.zeros_like(ids)), str(raw), dynamo=False,
                          opset_version=17, input_names=list(INPUTS), output_names=outputs,
                          dynamic_axes=axes)
    # The optimiser logs a dozen INFO lines (one per fusion) from loggers of its own names.
    previous = logging.root.manager.disable
    logging.disable(logging.INFO)  # for the few seconds of a first run only
    try:
        fused = optimize_model(str(raw), model_type="bert",
                               num_heads=int(config.num_attention_heads),
                               hidden_size=int(config.hidden_size), opt_level=0)
        fused.save_model_to_file(str(path))
    finally:
        logging.disable(previous)
    raw.unlink()


def _key(source: Path) -> str:
    """A cache key from the model files' paths, sizes and times (cheap: no hashing of weights)."""
    digest = hashlib.sha256(f"format {FORMAT}".encode())
    for name in SOURCE_FILES:
        path = (source / name).resolve()
        try:
            stat = path.stat()
        except OSError as exc:
            raise ConfigError(f"Model folder {source} has no {name}: set RAG_MODEL_PATH to a "
                              "sentence-transformers model folder.") from exc
        digest.update(f"{path} {stat.st_size} {stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def _check_pipeline(source: Path) -> dict[str, int]:
    """The model's sentence-bert settings; refuses pipelines other than BERT + mean + Normalize."""
    try:
        modules = json.loads((source / "modules.json").read_text(encoding="utf-8"))
        pooling = json.loads((source / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
        settings = json.loads((source / "sentence_bert_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"Model folder {source} is not a readable sentence-transformers "
                          f"folder ({exc}): set RAG_MODEL_PATH to one.") from exc
    kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
    modes = {k for k, v in pooling.items() if k.startswith("pooling_mode_") and v}
    if kinds != ["Transformer", "Pooling", "Normalize"] or modes != {"pooling_mode_mean_tokens"}:
        raise ConfigError(f"Model {source} is {' + '.join(kinds)} with {sorted(modes)}: the ONNX "
                          "encoder reproduces only Transformer + mean Pooling + Normalize; set "
                          "RAG_ENCODER=torch for this model.")
    return dict(settings)
