"""The shipped span reader: ONNX Runtime and `tokenizers`, no torch at question time.

`read(question, windows)` scores every span of every window at once (one batch) and
returns the best spans, ranked by how far each beats its window's "no answer" score.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from rag.config import Settings
from rag.reader.tokens import Pair, encode_pairs, load_tokenizer
from rag.reader.windows import Window
from rag.records import AnswerSpan
from rag.runtime import cpu_session

MODEL_FILE = "reader.onnx"
TOKENIZER_FILE = "tokenizer.json"
MODEL_DIR = Path(__file__).with_name("model")
MAX_ANSWER_TOKENS = 30
SPANS_PER_WINDOW = 3


class Reader(Protocol):
    """Reads windows for a question and proposes answer spans, best first."""

    def read(self, question: str, windows: Sequence[Window]) -> list[AnswerSpan]: ...


def open_reader(settings: Settings) -> OnnxReader:
    """The span reader named by the settings (the packaged one by default)."""
    if settings.reader_path:
        return OnnxReader(Path(settings.reader_path), threads=settings.threads)
    return OnnxReader(threads=settings.threads)


class OnnxReader:
    """The trained reader in rag/reader/model/ (or another folder written by export)."""

    def __init__(self, folder: Path = MODEL_DIR, threads: int = 0) -> None:
        self.tokenizer = load_tokenizer(folder / TOKENIZER_FILE)
        self.session = cpu_session(folder / MODEL_FILE, threads)

    def read(self, question: str, windows: Sequence[Window]) -> list[AnswerSpan]:
        """Up to SPANS_PER_WINDOW spans of each window, best margin first."""
        if not windows:
            return []
        pairs = encode_pairs(self.tokenizer, [question] * len(windows),
                             [w.text for w in windows])
        starts, ends = self.logits(pairs)
        spans = []
        for i, (pair, window) in enumerate(zip(pairs, windows, strict=True)):
            for first, last, score, null, probability in best_spans(pair, starts[i], ends[i]):
                spans.append(AnswerSpan(window.doc_id, window.start + first, window.start + last,
                                        score, null, probability, i))
        spans.sort(key=lambda s: -s.margin)
        return spans

    def logits(self, pairs: list[Pair]) -> tuple[np.ndarray, np.ndarray]:
        """Start and end logits of every token of every pair, padded to the longest."""
        width = max(len(p.ids) for p in pairs)
        ids = np.zeros((len(pairs), width), dtype=np.int64)
        types = np.zeros_like(ids)
        for row, pair in enumerate(pairs):
            ids[row, : len(pair.ids)] = pair.ids
            types[row, : len(pair.ids)] = pair.type_ids
        feeds = {"input_ids": ids, "attention_mask": (ids != 0).astype(np.int64),
                 "token_type_ids": types}
        starts, ends = self.session.run(["start_logits", "end_logits"], feeds)
        return starts, ends


def best_spans(pair: Pair, start: np.ndarray, end: np.ndarray, top: int = SPANS_PER_WINDOW,
               ) -> list[tuple[int, int, float, float, float]]:
    """The `top` best (first char, end char, score, no-answer score, probability) of a pair's
    window, over spans of at most MAX_ANSWER_TOKENS window tokens."""
    inside = np.array([o is not None for o in pair.offsets])
    n = len(pair.offsets)
    start, end = start[:n].astype(np.float64), end[:n].astype(np.float64)
    null = float(start[0] + end[0])
    # Probabilities over the real tokens ([CLS] included, as training's targets were).
    p_start = np.exp(start - start.max())
    p_start /= p_start.sum()
    p_end = np.exp(end - end.max())
    p_end /= p_end.sum()
    tokens = np.flatnonzero(inside)
    if not len(tokens):
        return []
    grid = start[tokens][:, None] + end[tokens][None, :]
    offsets = np.subtract.outer(tokens, tokens)  # first - last
    grid[(offsets > 0) | (offsets <= -MAX_ANSWER_TOKENS)] = -np.inf
    out = []
    for flat in np.argsort(-grid, axis=None)[:top]:
        a, b = divmod(int(flat), len(tokens))
        if not np.isfinite(grid[a, b]):
            break
        first, last = int(tokens[a]), int(tokens[b])
        chars = (pair.offsets[first][0], pair.offsets[last][1])  # type: ignore[index]
        out.append((chars[0], chars[1], float(grid[a, b]), null,
                    float(p_start[first] * p_end[last])))
    return out
