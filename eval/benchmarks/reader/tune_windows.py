#!/usr/bin/env python3
"""How many windows to read, and how long: SQuAD v1.1 open book, the tuning half only.

    .venv/bin/python eval/benchmarks/reader/tune_windows.py [--questions 600]

The SQuAD dev articles are split by their order in the file: even ones tune (this script),
odd ones are never looked at here, and `rag eval --dataset squad` reports all of them.
Prints, per setting, the best span's exact match, token F1 and containment (abstention
ignored) and the median milliseconds of choosing and reading.
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
from rag.pipeline import Pipeline
from rag.reader.windows import Choice


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=600)
    parser.add_argument("--plans", default="2/2/0,3/3/0,2/4/2,2/4/4,2/4/6",
                        help="first/windows/enough, comma-separated")
    parser.add_argument("--max-chars", default="450,600")
    args = parser.parse_args()
    settings = Settings()
    encoder = open_encoder(settings)
    data = load_dataset("squad", settings, lambda: encoder, [], Path("eval/results"))
    pipeline = Pipeline.load(data.settings, encoder=encoder)
    titles = list(dict.fromkeys(c.category for c in data.cases))
    tuning = {t for i, t in enumerate(titles) if i % 2 == 0}
    cases = [c for c in data.cases if c.category in tuning][:: 2][: args.questions]
    print(f"{len(cases)} questions from {len(tuning)} tuning articles")
    print("| first / at most / enough | max chars | EM | F1 | contains | choose+read ms p50 |")
    print("|---|---|---|---|---|---|")
    plans = [plan.split("/") for plan in args.plans.split(",")]
    for (first, count, enough), chars in itertools.product(plans, _ints(args.max_chars)):
        pipeline.choice = Choice(first=int(first), windows=int(count), enough=float(enough),
                                 max_chars=chars)
        em, f1, contains, ms = [], [], [], []
        for case in cases:
            answer = pipeline.ask(case.question)
            guess = answer.answer if answer.answer is not None else answer.guess
            em.append(metrics.exact_match(guess, case.answers))
            f1.append(metrics.token_f1(guess, case.answers))
            contains.append(metrics.contains(guess, case.answers))
            ms.append(answer.timings["windows"] + answer.timings["read"])
        print(f"| {first} / {count} / {enough} | {chars} | {100 * statistics.mean(em):.1f} | "
              f"{100 * statistics.mean(f1):.1f} | {100 * statistics.mean(contains):.1f} | "
              f"{statistics.median(ms):.1f} |", flush=True)


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",")]


if __name__ == "__main__":
    main()
