"""Average the weights of trained readers into one (training only).

    python -m rag.reader.average --out build/reader34/final build/reader3/final build/reader4/final

Readers fine-tuned one from another lie close together, and the mean of their weights (a
"model soup", Wortsman et al. 2022) can keep what each stage learned better than the last
stage alone: the shipped reader is the mean of stages 3 and 4. The config and tokenizer are
copied from the last folder given.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

WEIGHTS = "model.safetensors"


def average(sources: list[Path], target: Path) -> None:
    """Write to `target` a transformers folder whose weights are the element-wise mean of the
    `sources`' (config and tokenizer from the last source)."""
    import torch
    from safetensors.torch import load_file, save_file

    if len(sources) < 2:
        raise ValueError("give at least two trained readers to average")
    missing = [str(s) for s in sources if not (s / WEIGHTS).is_file()]
    if missing:
        raise ValueError(f"no {WEIGHTS} in {', '.join(missing)}: give the `final` folders of "
                         "training runs (for instance build/reader3/final)")
    states = [load_file(source / WEIGHTS) for source in sources]
    first = states[0]
    for state in states[1:]:
        for name in sorted(set(state) | set(first)):
            if (name not in state or name not in first
                    or (state[name].shape, state[name].dtype)
                    != (first[name].shape, first[name].dtype)):
                raise ValueError(f"the readers differ in weight {name!r} (name, shape or "
                                 "type): average only stages of one model")
    mean = {}
    for name, tensor in first.items():
        if tensor.is_floating_point():
            stacked = torch.stack([state[name].to(torch.float64) for state in states])
            mean[name] = stacked.mean(dim=0).to(tensor.dtype)
        elif all(torch.equal(state[name], tensor) for state in states[1:]):
            mean[name] = tensor  # ids and masks: the same in every stage, kept as they are
        else:
            raise ValueError(f"the readers' integer weight {name!r} differs: it cannot be "
                             "averaged; average only stages of one model")
    target.mkdir(parents=True, exist_ok=True)
    save_file(mean, target / WEIGHTS, metadata={"format": "pt"})
    for name in ("config.json", "tokenizer.json"):
        shutil.copyfile(sources[-1] / name, target / name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True,
                        help="the folder to write (a transformers folder, as `final`)")
    parser.add_argument("sources", type=Path, nargs="+",
                        help="two or more `final` folders of training runs")
    args = parser.parse_args()
    try:
        average(args.sources, args.out)
    except ValueError as exc:
        parser.error(str(exc))


if __name__ == "__main__":
    main()
