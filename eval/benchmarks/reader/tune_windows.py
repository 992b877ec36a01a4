#!/usr/bin/env python3
"""How many windows to read, and how long: SQuAD v1.1 open book, the tuning half only.

    .venv/bin/python eval/benchmarks/reader/tune_windows.py [--questions 600]

The SQuAD dev articles are split by their order in the file: even ones tune (this script),
odd ones are never looked at here, and `rag eval --dataset squad` reports all of them.
Prints, per setting, the best span's exact match, token F1 and containment (abstention
ignored) and the median and mean milliseconds of choosing and reading.

A reader trained on the SQuAD 2.0 part (stage 6 on) is over-sure of the articles it trained
on, so it would stop after one window more often there than on new documents: give its fold
readers (`--fold-readers DIR ...`) and each article is read by the one that held it out.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
from pathlib import Path

from rag import metrics
from rag.config import Settings
from rag.datasets import load_dataset
from rag.embed import open_encoder
from rag.evaluate import open_fold_readers
from rag.folds import reader_for
from rag.pipeline import Pipeline
from rag.reader.windows import Choice


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=600)
    parser.add_argument("--plans", default="1/1/0,1/2/0.5,2/2/1",
                        help="first/windows/sure (the confidence under which the rest are "
                             "read: 0 never, 1 always), comma-separated")
    parser.add_argument("--max-chars", default="450,600")
    parser.add_argument("--fold-readers", type=Path, nargs="*", default=[])
    args = parser.parse_args()
    settings = Settings()
    encoder = open_encoder(settings)
    data = load_dataset("squad", settings, lambda: encoder, [], Path("eval/results"))
    pipeline = Pipeline.load(data.settings, encoder=encoder)
    titles = list(dict.fromkeys(c.category for c in data.cases))
    tuning = {t for i, t in enumerate(titles) if i % 2 == 0}
    cases = [c for c in data.cases if c.category in tuning][:: 2][: args.questions]
    print(f"{len(cases)} questions from {len(tuning)} tuning articles")
    readers, held_out = open_fold_readers(args.fold_readers) if args.fold_readers else ([], [])
    chosen = [reader_for(c.category, held_out) if readers else -1 for c in cases]
    shipped = pipeline.reader
    print("| first / at most / sure | max chars | EM | F1 | contains | choose+read ms p50 | mean |")
    print("|---|---|---|---|---|---|---|")
    plans = [plan.split("/") for plan in args.plans.split(",")]
    for (first, count, sure), chars in itertools.product(plans, _ints(args.max_chars)):
        pipeline.choice = Choice(first=int(first), windows=int(count), sure=float(sure),
                                 max_chars=chars)
        em, f1, contains, ms = [], [], [], []
        for case, k in zip(cases, chosen, strict=True):
            pipeline.reader = readers[k] if k >= 0 else shipped
            answer = pipeline.ask(case.question)
            guess = answer.answer if answer.answer is not None else answer.guess
            em.append(metrics.exact_match(guess, case.answers))
            f1.append(metrics.token_f1(guess, case.answers))
            contains.append(metrics.contains(guess, case.answers))
            ms.append(answer.timings["windows"] + answer.timings["read"])
        print(f"| {first} / {count} / {sure} | {chars} | {100 * statistics.mean(em):.1f} | "
              f"{100 * statistics.mean(f1):.1f} | {100 * statistics.mean(contains):.1f} | "
              f"{statistics.median(ms):.1f} | {statistics.mean(ms):.1f} |", flush=True)


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",")]


if __name__ == "__main__":
    main()
