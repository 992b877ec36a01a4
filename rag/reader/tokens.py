"""Question and window as one token sequence, with each window token's character offsets.

Training and the shipped reader both go through `encode_pairs`, so the model reads at ask
time exactly what it was trained on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tokenizers import Tokenizer

MAX_QUESTION_TOKENS = 48
MAX_TOKENS = 192  # question + window + [CLS] and two [SEP]


@dataclass(frozen=True, slots=True)
class Pair:
    """Token ids of `[CLS] question [SEP] window [SEP]` and where window tokens stand."""

    ids: list[int]
    type_ids: list[int]
    # For each token, its [start, end) in the window text; None outside the window.
    offsets: list[tuple[int, int] | None]


def load_tokenizer(path: Path) -> Tokenizer:
    """The WordPiece tokenizer saved as tokenizer.json, truncation and padding off."""
    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def encode_pairs(tokenizer: Tokenizer, questions: list[str], windows: list[str],
                 max_tokens: int = MAX_TOKENS) -> list[Pair]:
    """Each (question, window) as one sequence; a long question or window is cut short."""
    asked = tokenizer.encode_batch(questions, add_special_tokens=False)
    read = tokenizer.encode_batch(windows, add_special_tokens=False)
    special = special_ids(tokenizer)
    pairs = []
    for q, w in zip(asked, read, strict=True):
        q_ids = q.ids[:MAX_QUESTION_TOKENS]
        room = max_tokens - len(q_ids) - 3
        pairs.append(join_pair(special, q_ids, w.ids[:room], w.offsets[:room]))
    return pairs


def join_pair(special: tuple[int, int], question: list[int], window: list[int],
              offsets: list[tuple[int, int]]) -> Pair:
    """`[CLS] question [SEP] window [SEP]`, with the window tokens' character offsets."""
    cls, sep = special
    where: list[tuple[int, int] | None] = [None] * (len(question) + 2)
    where += [(a, b) for a, b in offsets]
    where.append(None)
    return Pair([cls, *question, sep, *window, sep],
                [0] * (len(question) + 2) + [1] * (len(window) + 1), where)


def special_ids(tokenizer: Tokenizer) -> tuple[int, int]:
    """The ids of [CLS] and [SEP]."""
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    if cls is None or sep is None:
        raise ValueError("the reader's tokenizer has no [CLS] or [SEP] token")
    return cls, sep


def answer_tokens(pair: Pair, start: int, end: int) -> tuple[int, int] | None:
    """The first and last token covering characters [start, end) of the window, or None
    when the window was cut before the answer."""
    first = last = None
    for i, offset in enumerate(pair.offsets):
        if offset is None:
            continue
        if first is None and offset[1] > start:
            first = i
        if offset[0] < end:
            last = i
    if first is None or last is None or last < first or pair.offsets[last][1] < end:  # type: ignore[index]
        return None
    return first, last
