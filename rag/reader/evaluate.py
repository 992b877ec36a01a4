"""The reader alone on SQuAD v1.1 dev: the gold window given, and a negative beside it.

    python -m rag.reader.evaluate [--model rag/reader/model] [--limit N]
    python -m rag.reader.evaluate --fold-models build/fold0/onnx ... build/fold4/onnx

For each question the reader reads the window the pipeline would read around the gold
answer's sentence (the sentence and one neighbour each side): exact match and token F1 of
its best span. It also reads a window of the same paragraph that holds no gold answer: the
AUROC of the no-answer margin tells the two apart. A reader trained on the SQuAD 2.0 part
(whose answerable questions are these) is scored with --fold-models: each question read by
the fold reader that held its article out of training (rag/folds.py).

With --squad2 FILE it also reads SQuAD 2.0 questions the way nothing in retrieval can spoil:
each question reads every window of its own paragraph, and the AUROC of its best no-answer
margin tells answerable questions from unanswerable ones. Set beside the pipeline's AUROC
on the same questions (`rag eval --dataset squad2`), it says whether what is lost is lost in
choosing windows or in the reader. --neighbours sets the window's size (the sentences each
side of its own; the pipeline reads 1).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from rag import metrics
from rag.errors import ConfigError
from rag.folds import reader_for
from rag.reader.examples import neighbour_window, read_squad, window_span
from rag.reader.onnx_reader import MODEL_DIR, OnnxReader, Reader
from rag.reader.windows import Choice, Window, around
from rag.retrieve import Hit
from rag.sentences import split_sentences

SQUAD_DEV = Path("../shared/benchmarks/squad/squad-v1.1-dev-openbook.json")


def windows_of(path: Path,
               limit: int | None) -> list[tuple[str, str, list[str], str, str | None]]:
    """(article, question, golds, gold window, negative window or None) per question."""
    out = []
    for title, paragraphs in read_squad(path):
        for p in paragraphs:
            text = p["context"]
            spans = split_sentences(text)
            for qa in p["qas"]:
                golds = [a["text"] for a in qa["answers"]]
                start = qa["answers"][0]["answer_start"]
                end = start + len(golds[0])
                holding = [i for i, s in enumerate(spans) if s.start < end and s.end > start]
                if not holding:
                    continue
                if len(holding) == 1:
                    gold = window_span(spans, *around(spans, holding[0], Choice().max_chars))
                else:
                    gold = window_span(spans, holding[0], holding[-1])
                negative = None
                for i in range(len(spans)):
                    w = neighbour_window(spans, i)
                    piece = text[w.start : w.end]
                    if not any(g.lower() in piece.lower() for g in golds):
                        negative = piece
                        break
                out.append((title, qa["question"], golds, text[gold.start : gold.end],
                            negative))
                if limit and len(out) == limit:
                    return out
    return out


def evaluate(readers: list[Reader], held_out: list[frozenset[str]], data: Path,
             limit: int | None) -> dict[str, float | int | None]:
    """EM, F1 and no-answer AUROC of the reader (or, given fold readers and the articles each
    `held_out`, of the one that held each question's article out) on gold and negative
    windows."""
    cases = windows_of(data, limit)
    ems, f1s, scores, labels = [], [], [], []
    clock = time.perf_counter()
    for title, question, golds, gold, negative in cases:
        texts = [gold] + ([negative] if negative else [])
        windows = [Window("", 0, len(t), t, 0, _NO_HIT, 0.0, 0.0) for t in texts]
        reader = readers[reader_for(title, held_out) if held_out else 0]
        spans = reader.read(question, windows)
        best = next((s for s in spans if s.window == 0), None)
        answer = gold[best.start : best.end] if best else ""
        ems.append(metrics.exact_match(answer, golds))
        f1s.append(metrics.token_f1(answer, golds))
        for i in range(len(texts)):
            margin = max((s.margin for s in spans if s.window == i), default=-1e9)
            scores.append(margin)
            labels.append(i == 0)
    seconds = time.perf_counter() - clock
    return {"questions": len(cases), "exact_match": round(100 * sum(ems) / len(ems), 2),
            "f1": round(100 * sum(f1s) / len(f1s), 2),
            "auroc_gold_vs_negative": metrics.auroc(scores, labels),
            "ms_per_question": round(1000 * seconds / len(cases), 1)}


def _readers(model: Path,
             fold_models: list[Path] | None) -> tuple[list[Reader], list[frozenset[str]]]:
    from rag.evaluate import open_fold_readers

    return open_fold_readers(fold_models) if fold_models else ([OnnxReader(model)], [])


def paragraph_auroc(readers: list[Reader], held_out: list[frozenset[str]], data: Path,
                    limit: int | None = None,
                    neighbours: int = 1) -> dict[str, float | int | None]:
    """AUROC, answerable against unanswerable, of each question's best margin over every
    window (a sentence and `neighbours` each side, as the pipeline reads one) of its own
    paragraph."""
    scores, labels = [], []
    read = 0
    for title, paragraphs in read_squad(data):
        reader = readers[reader_for(title, held_out) if held_out else 0]
        for p in paragraphs:
            text = p["context"]
            spans = split_sentences(text)
            cuts = dict.fromkeys(neighbour_window(spans, i, neighbours)
                                 for i in range(len(spans)))
            windows = [Window("", c.start, c.end, text[c.start : c.end], 0, _NO_HIT, 0.0, 0.0)
                       for c in cuts]
            read += len(windows)
            for qa in p["qas"]:
                found = reader.read(qa["question"], windows)
                scores.append(max((s.margin for s in found), default=-1e9))
                labels.append(not qa.get("is_impossible", False))
                if limit and len(labels) == limit:
                    return _paragraph_result(scores, labels, neighbours, read)
    return _paragraph_result(scores, labels, neighbours, read)


def _paragraph_result(scores: list[float], labels: list[bool], neighbours: int,
                      windows: int) -> dict[str, float | int | None]:
    return {"squad2_questions": len(labels), "squad2_unanswerable": labels.count(False),
            "squad2_neighbours": neighbours, "squad2_paragraph_windows": windows,
            "squad2_auroc_answerable_own_paragraph": metrics.auroc(scores, labels)}


_NO_HIT = Hit(0, None, 0.0, 0.0, 0.0, 0.0)  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=MODEL_DIR)
    parser.add_argument("--data", type=Path, default=SQUAD_DEV)
    parser.add_argument("--fold-models", type=Path, nargs="+", default=None,
                        help="fold readers (trained with --squad2 --hold-out) in place of "
                             "--model: each question read by the one that held its article out")
    parser.add_argument("--squad2", type=Path, default=None,
                        help="also score SQuAD 2.0 questions (this file) over their own "
                             "paragraphs: AUROC answerable vs not")
    parser.add_argument("--neighbours", type=int, default=1,
                        help="with --squad2: the sentences each side of a window's own (the "
                             "pipeline reads 1; 0 reads each sentence alone)")
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()
    if args.neighbours < 0:
        parser.error("--neighbours takes 0 (each sentence alone) or more")
    try:
        readers, held_out = _readers(args.model, args.fold_models)
        result = evaluate(readers, held_out, args.data, args.limit)
        if args.squad2:
            result |= paragraph_auroc(readers, held_out, args.squad2, args.limit,
                                      args.neighbours)
        print(json.dumps(result, indent=2))
    except ConfigError as exc:
        parser.error(str(exc))


if __name__ == "__main__":
    main()
