"""Turn a trained reader (a transformers folder) into the shipped ONNX model (training only).

    python -m rag.reader.export build/reader/final rag/reader/model [--int8]

Writes reader.onnx (start and end logits per token, with ONNX Runtime's BERT fusions) and
tokenizer.json into the target folder. The weights are stored as fp16 and computed in fp32
(half the size, the same answers); with --int8 the matrix products are quantised
dynamically instead (a quarter of the size): keep that only where F1 stays within half a
point of fp32 (`python -m rag.reader.evaluate`).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from rag.export import trace_and_fuse
from rag.folds import TRAINED_ON_FILE
from rag.reader.onnx_reader import MODEL_FILE, TOKENIZER_FILE


def export(source: Path, folder: Path, int8: bool) -> None:
    """Write the ONNX reader of the transformers folder `source` into `folder`."""
    import torch
    from transformers import AutoModelForQuestionAnswering

    model = AutoModelForQuestionAnswering.from_pretrained(
        source, attn_implementation="eager").eval()

    class Logits(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.reader = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                    token_type_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            out = self.reader(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids)
            return out.start_logits, out.end_logits

    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        fused_path = Path(tmp) / "fused.onnx"
        trace_and_fuse(Logits(), ["start_logits", "end_logits"], model.config, fused_path)
        if int8:
            import onnx
            from onnxruntime.quantization import QuantType, quantize_dynamic

            # The fused graph holds ONNX Runtime's own operators, whose types shape inference
            # cannot tell: their tensors are float.
            quantize_dynamic(str(fused_path), str(folder / MODEL_FILE),
                             weight_type=QuantType.QInt8,
                             extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
        else:
            _store_half(fused_path, folder / MODEL_FILE)
    shutil.copyfile(source / TOKENIZER_FILE, folder / TOKENIZER_FILE)
    # Which benchmark questions it trained on goes with it; an older record must not stay.
    record = folder / TRAINED_ON_FILE
    if (source / TRAINED_ON_FILE).is_file():
        shutil.copyfile(source / TRAINED_ON_FILE, record)
    else:
        record.unlink(missing_ok=True)


def _store_half(source: Path, target: Path) -> None:
    """Store the float weights as fp16, each behind a Cast back to fp32: half the file, and
    ONNX Runtime folds the casts when it loads the model, so it still computes in fp32."""
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(source))
    graph = model.graph
    kept, casts = [], []
    for tensor in graph.initializer:
        values = numpy_helper.to_array(tensor)
        if values.dtype != np.float32 or values.size < 1024:
            kept.append(tensor)
            continue
        half = f"{tensor.name}.fp16"
        kept.append(numpy_helper.from_array(values.astype(np.float16), half))
        casts.append(helper.make_node("Cast", [half], [tensor.name], to=onnx.TensorProto.FLOAT))
    del graph.initializer[:]
    graph.initializer.extend(kept)
    nodes = casts + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.save(model, str(target))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--int8", action="store_true")
    args = parser.parse_args()
    export(args.source, args.folder, args.int8)


if __name__ == "__main__":
    main()
