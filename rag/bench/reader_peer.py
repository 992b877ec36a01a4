"""The peer row for the reader: the same model read the way Haystack's ExtractiveReader
reads, over the top 5 chunks whole in 384-token windows with a 128-token stride, the best
span by raw score across them; against our pipeline, F1 and latency on the same questions.
"""

from __future__ import annotations

import statistics
import time

from rag import metrics
from rag.bench.rows import Row, latency_row
from rag.cases import Case
from rag.pipeline import Pipeline
from rag.reader.onnx_reader import OnnxReader, best_spans
from rag.reader.tokens import MAX_QUESTION_TOKENS, join_pair, special_ids
from rag.retrieve import retrieve

MAX_TOKENS = 384
STRIDE = 128  # tokens shared by consecutive windows of one chunk
CHUNKS = 5


def read_chunks_whole(reader: OnnxReader, question: str, texts: list[str]) -> tuple[int, str]:
    """The best span over every window of every text: (text index, answer)."""
    tokenizer = reader.tokenizer
    asked = tokenizer.encode(question, add_special_tokens=False).ids[:MAX_QUESTION_TOKENS]
    special = special_ids(tokenizer)
    room = MAX_TOKENS - len(asked) - 3
    pairs, owners = [], []
    for t, encoded in enumerate(tokenizer.encode_batch(texts, add_special_tokens=False)):
        ids, offsets = encoded.ids, encoded.offsets
        at = 0
        while True:
            piece = slice(at, at + room)
            pairs.append(join_pair(special, asked, ids[piece], offsets[piece]))
            owners.append(t)
            if at + room >= len(ids):
                break
            at += room - STRIDE
    starts, ends = reader.logits(pairs)
    best = (float("-inf"), 0, "")
    for i, pair in enumerate(pairs):
        for first, last, score, _, _ in best_spans(pair, starts[i], ends[i], top=1):
            if score > best[0]:
                best = (score, owners[i], texts[owners[i]][first:last])
    return best[1], best[2]


def compare(pipeline: Pipeline, reader: OnnxReader, cases: list[Case], label: str) -> list[Row]:
    """Our pipeline and the Haystack-style reading of the same retrieval, side by side."""
    ours: list[float] = []
    peer: list[float] = []
    ours_f1: list[float] = []
    peer_f1: list[float] = []
    for case in cases:  # a warm-up pass, as `timed` makes for every other row
        pipeline.ask(case.question)
        _peer_answer(pipeline, reader, case.question)
    for case in cases:
        began = time.perf_counter()
        answer = pipeline.ask(case.question)
        ours.append((time.perf_counter() - began) * 1000)
        guess = answer.answer if answer.answer is not None else answer.guess
        ours_f1.append(metrics.token_f1(guess, list(case.answers)))
        began = time.perf_counter()
        text = _peer_answer(pipeline, reader, case.question)
        peer.append((time.perf_counter() - began) * 1000)
        peer_f1.append(metrics.token_f1(text, list(case.answers)))
    speed = statistics.median(peer) / statistics.median(ours)
    return [
        latency_row(label, "reader: ours (windows around the best sentences)", ours,
                    value=f"F1 {100 * statistics.mean(ours_f1):.1f} on {len(cases)} questions",
                    ratio=f"{speed:.1f}x faster than the peer (target >= 5x)"),
        latency_row(label, "reader: Haystack-style peer (top 5 chunks whole, 384/128)", peer,
                    value=f"F1 {100 * statistics.mean(peer_f1):.1f} on {len(cases)} questions"),
    ]


def _peer_answer(pipeline: Pipeline, reader: OnnxReader, question: str) -> str:
    vector = pipeline.encoder.encode_query(question)
    hits = retrieve(pipeline.index, question, vector, CHUNKS)
    return read_chunks_whole(reader, question, [h.chunk.text for h in hits])[1]
