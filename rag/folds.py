"""Article folds of the SQuAD benchmark part.

A reader fine-tuned on the SQuAD 2.0 part's questions is scored only on articles it did not
train on: the reader of fold k trains without fold k's articles and answers only theirs.
Training, `rag eval --fold-readers` and `python -m rag.reader.evaluate --fold-models` share
this one assignment.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from pathlib import Path

FOLDS = 5


def article_folds(titles: Iterable[str], folds: int = FOLDS, seed: int = 0) -> dict[str, int]:
    """Each article's fold: the sorted titles, shuffled by `seed`, dealt out in turn."""
    order = sorted(set(titles))
    random.Random(seed).shuffle(order)
    return {title: i % folds for i, title in enumerate(order)}


def file_folds(squad_file: Path) -> dict[str, int]:
    """The folds of the articles of a SQuAD-format file (the SQuAD 2.0 part's, for readers
    trained with `--squad2`)."""
    data = json.loads(squad_file.read_text(encoding="utf-8"))["data"]
    return article_folds(article["title"] for article in data)
