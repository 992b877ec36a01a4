"""Average the weights of trained readers into one (training only).

    python -m rag.reader.average build/reader34/final build/reader3/final build/reader4/final

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
    """Write the element-wise mean of the `sources`' weights, a transformers folder, to `target`."""
    import torch
    from safetensors.torch import load_file, save_file

    if len(sources) < 2:
        raise ValueError("give at least two trained readers to average")
    states = [load_file(source / WEIGHTS) for source in sources]
    names = set(states[0])
    if any(set(state) != names for state in states[1:]):
        raise ValueError("the readers do not have the same weights: average only stages of "
                         "one model")
    mean = {name: torch.stack([state[name].float() for state in states]).mean(dim=0)
            .to(states[0][name].dtype) for name in sorted(names)}
    target.mkdir(parents=True, exist_ok=True)
    save_file(mean, target / WEIGHTS, metadata={"format": "pt"})
    for name in ("config.json", "tokenizer.json"):
        shutil.copyfile(sources[-1] / name, target / name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", type=Path)
    parser.add_argument("sources", type=Path, nargs="+")
    args = parser.parse_args()
    average(args.sources, args.target)


if __name__ == "__main__":
    main()
