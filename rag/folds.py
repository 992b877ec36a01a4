"""Article folds of the SQuAD benchmark part, and what a reader trained on of it.

A reader fine-tuned on the SQuAD 2.0 part's questions is scored only on questions of
articles it did not train on: the reader of fold k trains without fold k's articles (their
passages still stand in the index, as distractors) and answers only their questions. Each
reader folder names the articles it held out in trained_on.json, and evaluation routes by
that record, not by the order the folders are given in.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rag.errors import ConfigError

FOLDS = 5
TRAINED_ON_FILE = "trained_on.json"


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


def fold_articles(squad_file: Path, fold: int) -> frozenset[str]:
    """The articles of `squad_file` in `fold` (none for -1: nothing held out)."""
    return frozenset(t for t, k in file_folds(squad_file).items() if k == fold)


@dataclass(frozen=True)
class TrainedOn:
    """The benchmark files (by name) whose questions a reader trained on, less the articles
    it held out of them."""

    files: tuple[str, ...] = ()
    held_out: frozenset[str] = frozenset()


def read_trained_on(folder: Path) -> TrainedOn:
    """The record in a reader folder; none means it trained on no benchmark question."""
    path = folder / TRAINED_ON_FILE
    if not path.is_file():
        return TrainedOn()
    data = json.loads(path.read_text(encoding="utf-8"))
    return TrainedOn(tuple(data["files"]), frozenset(data.get("held_out_articles", [])))


def write_trained_on(folder: Path, record: TrainedOn) -> None:
    data = {"files": list(record.files), "held_out_articles": sorted(record.held_out)}
    (folder / TRAINED_ON_FILE).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def reader_for(article: str, held_out: Sequence[frozenset[str]]) -> int:
    """The one fold reader (by position) that held `article` out."""
    found = [i for i, articles in enumerate(held_out) if article in articles]
    if len(found) != 1:
        raise ConfigError(f"article {article!r} is held out by {len(found)} of the fold "
                          "readers, not one: give readers whose held-out folds (their "
                          f"{TRAINED_ON_FILE}) hold each SQuAD article once")
    return found[0]
