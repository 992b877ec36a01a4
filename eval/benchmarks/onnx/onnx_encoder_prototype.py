"""all-MiniLM-L6-v2 sentence embeddings with ONNX Runtime: no torch at query time.

Query time needs only ``onnxruntime``, ``tokenizers`` and ``numpy``. Building the ONNX file
(:func:`export`) needs ``torch``, ``transformers`` and ``onnx`` as well; it runs offline, from a
local sentence-transformers folder, and writes a self-contained folder::

    out_dir/model.onnx | model_int8.onnx   the graph: (input_ids, attention_mask, token_type_ids)
                                           -> last_hidden_state
    out_dir/tokenizer.json                 copied from the model folder
    out_dir/encoder.json                   max_seq_length, dimension, source fingerprint

Pooling (attention-masked mean) and L2 normalisation run in numpy, as sentence-transformers'
Pooling(mean) + Normalize modules do.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

FP32_NAME = "model.onnx"
INT8_NAME = "model_int8.onnx"
CONFIG_NAME = "encoder.json"
TOKENIZER_NAME = "tokenizer.json"
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
FORMAT = 1  # bump when export() changes what it writes, so cached folders are rebuilt
PathLike = str | os.PathLike[str]


class OnnxEncoder:
    """Turns texts into L2-normalised float32 vectors with an exported ONNX model folder."""

    def __init__(
        self,
        model_dir: PathLike,
        quantized: bool = False,
        threads: int | None = None,
        batch_size: int = 32,
        file_name: str | None = None,
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        folder = Path(model_dir)
        config = json.loads((folder / CONFIG_NAME).read_text(encoding="utf-8"))
        self.dimension: int = int(config["dimension"])
        self.max_seq_length: int = int(config["max_seq_length"])
        self.batch_size = batch_size

        # This model's tokenizer.json pads to a fixed 128 and truncates at 128, whereas
        # sentence-transformers truncates at max_seq_length (256) and pads to the batch's longest
        # text: do the same.
        self.tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_NAME))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=self.max_seq_length)

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or 0  # 0: one per physical core
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        path = folder / (file_name or (INT8_NAME if quantized else FP32_NAME))
        self.session = ort.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self.session.get_inputs()}

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Normalised embeddings, one row per text, in the order given."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        encodings = self.tokenizer.encode_batch(list(texts))
        # Longest first, so each batch holds texts of similar length and pads little.
        order = sorted(range(len(texts)), key=lambda i: -len(encodings[i].ids))
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            width = len(encodings[rows[0]].ids)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                n = len(encodings[i].ids)
                ids[r, :n] = encodings[i].ids
                mask[r, :n] = 1
            out[rows] = self._embed(ids, mask)
        return out

    def encode_query(self, text: str) -> np.ndarray:
        """One normalised vector of shape (dimension,)."""
        return self.encode([text])[0]

    def _embed(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        feed = {k: v for k, v in feed.items() if k in self._inputs}
        hidden = self.session.run(None, feed)[0]
        return mean_pool_normalise(hidden, mask)


def mean_pool_normalise(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """sentence-transformers' Pooling(mean) then Normalize, for (batch, seq, dim) float arrays."""
    weights = mask.astype(np.float32)[:, :, None]
    summed = (np.asarray(hidden, dtype=np.float32) * weights).sum(axis=1)
    pooled = summed / np.clip(weights.sum(axis=1), 1e-9, None)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)


def fingerprint(model_path: PathLike) -> str:
    """sha256 of the model's weights and tokenizer: a cache key for an exported folder."""
    digest = hashlib.sha256()
    for name in ("model.safetensors", TOKENIZER_NAME):
        with open(Path(model_path) / name, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def is_current(out_dir: PathLike, model_path: PathLike, quantize: bool) -> bool:
    """Whether out_dir already holds an export of this model (and its int8 file if asked)."""
    folder = Path(out_dir)
    try:
        config = json.loads((folder / CONFIG_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    wanted = [FP32_NAME, TOKENIZER_NAME] + ([INT8_NAME] if quantize else [])
    if config.get("format") != FORMAT:
        return False
    return config.get("fingerprint") == fingerprint(model_path) and all(
        (folder / name).is_file() for name in wanted
    )


def export(model_path: PathLike, out_dir: PathLike, quantize: bool) -> Path:
    """Export a local sentence-transformers folder (BERT + mean pooling + Normalize) to ONNX.

    Writes model.onnx (fp32, with ONNX Runtime's BERT fusions) and, if quantize, model_int8.onnx
    (dynamic int8 quantization of the fused graph). Works offline. Returns the path of the file
    that OnnxEncoder(out_dir, quantized=quantize) will load.
    """
    import torch
    from onnx import TensorProto
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers.optimizer import optimize_model
    from transformers import AutoConfig, AutoModel

    source = Path(model_path)
    _check_pipeline(source)
    st_config = json.loads((source / "sentence_bert_config.json").read_text(encoding="utf-8"))
    config = AutoConfig.from_pretrained(source)
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / CONFIG_NAME).unlink(missing_ok=True)  # written last: marks a complete export

    # Eager attention traces into the MatMul/Softmax pattern that ORT's optimizer fuses into
    # its Attention op; the TorchScript exporter (dynamo=False) needs only torch.
    model = AutoModel.from_pretrained(source, attn_implementation="eager").eval()

    class _Hidden(torch.nn.Module):
        def __init__(self, bert: torch.nn.Module) -> None:
            super().__init__()
            self.bert = bert

        def forward(
            self,
            input_ids: torch.Tensor,
            attention_mask: torch.Tensor,
            token_type_ids: torch.Tensor,
        ) -> torch.Tensor:
            return self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    ids = torch.full((2, 16), 1000, dtype=torch.int64)
    mask = torch.ones_like(ids)
    mask[1, 8:] = 0
    dynamic = {name: {0: "batch", 1: "sequence"} for name in (*INPUT_NAMES, "last_hidden_state")}
    with tempfile.TemporaryDirectory(dir=folder) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's tracer/deprecation chatter
        raw = Path(tmp) / "raw.onnx"
        with torch.no_grad():
            torch.onnx.export(
                _Hidden(model),
                (ids, mask, torch.zeros_like(ids)),
                str(raw),
                dynamo=False,
                opset_version=17,
                input_names=list(INPUT_NAMES),
                output_names=["last_hidden_state"],
                dynamic_axes=dynamic,
            )
        fused = optimize_model(
            str(raw),
            model_type="bert",
            num_heads=int(config.num_attention_heads),
            hidden_size=int(config.hidden_size),
            opt_level=0,
        )
        fused_path = Path(tmp) / FP32_NAME
        fused.save_model_to_file(str(fused_path))
        os.replace(fused_path, folder / FP32_NAME)
        if quantize:
            # U8U8 (weights QUInt8): no VPMADDUBSW saturation on AVX2 CPUs without VNNI.
            quantized_path = Path(tmp) / INT8_NAME
            quantize_dynamic(
                folder / FP32_NAME,
                quantized_path,
                per_channel=True,
                weight_type=QuantType.QUInt8,
                # shape inference cannot type the outputs of ORT's fused ops
                extra_options={"DefaultTensorType": TensorProto.FLOAT},
            )
            os.replace(quantized_path, folder / INT8_NAME)
        else:
            (folder / INT8_NAME).unlink(missing_ok=True)
    shutil.copyfile(source / TOKENIZER_NAME, folder / TOKENIZER_NAME)
    meta = {
        "format": FORMAT,
        "dimension": int(config.hidden_size),
        "max_seq_length": int(st_config.get("max_seq_length", 256)),
        "pooling": "mean",
        "normalize": True,
        "fingerprint": fingerprint(source),
        "source": str(source),
    }
    (folder / CONFIG_NAME).write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return folder / (INT8_NAME if quantize else FP32_NAME)


def _check_pipeline(source: Path) -> None:
    """Refuse folders whose sentence-transformers pipeline is not Transformer + mean + Normalize."""
    modules = json.loads((source / "modules.json").read_text(encoding="utf-8"))
    kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
    pooling = json.loads((source / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
    modes = {k for k, v in pooling.items() if k.startswith("pooling_mode_") and v}
    mean_only = modes == {"pooling_mode_mean_tokens"}
    if kinds != ["Transformer", "Pooling", "Normalize"] or not mean_only:
        raise ValueError(f"{source}: expected Transformer + mean Pooling + Normalize, got {kinds}")
