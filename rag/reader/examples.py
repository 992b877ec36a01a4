"""Training windows from SQuAD v1.1: positives hold the gold answer, negatives do not.

A window is a few consecutive sentences of one paragraph, cut by the same sentence
splitter the index uses. Negatives come from the same article: the window that BM25 ranks
highest for the question among those that do not hold the answer (a near miss, as our own
retrieval would offer), or another window of the answer's own paragraph. SQuAD v1.1 has no
unanswerable questions; these negatives are how the reader learns to say "no answer".
Rewrites add the harder kind SQuAD 2.0 holds: the answer's own window, with the question
changed so the window no longer answers it (a name, number or word swapped; negated).
`squad2_examples` takes real ones from a SQuAD 2.0 file: each unanswerable question with the
window of its "plausible answer", the span a reader is most easily fooled into.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

from rag.records import Span
from rag.sentences import split_sentences


@dataclass(frozen=True, slots=True)
class Example:
    """A question and a window; the answer's [start, end) in the window, or None."""

    question: str
    window: str
    start: int | None = None
    end: int | None = None
    article: str = ""


@dataclass(frozen=True, slots=True)
class _Paragraph:
    text: str
    sentences: list[Span]


def read_squad(path: Path) -> Iterator[tuple[str, list[dict]]]:
    """(article title, its paragraphs) from a SQuAD-format JSON file."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    for article in data:
        yield article["title"], article["paragraphs"]


def window_span(sentences: list[Span], first: int, last: int) -> Span:
    """The characters from sentence `first` to sentence `last`, inclusive."""
    return Span(sentences[first].start, sentences[last].end)


def neighbour_window(sentences: list[Span], i: int, each_side: int = 1) -> Span:
    """Sentence `i` with `each_side` neighbours each side (fewer at the paragraph's ends)."""
    return window_span(sentences, max(i - each_side, 0),
                       min(i + each_side, len(sentences) - 1))


@dataclass(frozen=True, slots=True)
class Rewrites:
    """Shares of the questions whose positive window comes back, labelled "no answer", with
    the question rewritten the ways SQuAD 2.0's writers made unanswerable ones."""

    swaps: float = 0.0  # a name or number swapped for another of the article (entity swap)
    # Any other word of the article: SQuAD 2.0's mutual exclusion and "other neutral" kinds
    # come close only sometimes, and many of these read ungrammatical.
    words: float = 0.0  # a content word swapped for another of the article
    negations: float = 0.0  # the auxiliary contracted with "n't" (negation)


def squad_examples(path: Path, seed: int, negatives: float = 0.5, share: float = 1.0,
                   rewrites: Rewrites = Rewrites(),
                   skip: frozenset[str] = frozenset()) -> list[Example]:
    """One positive window for a random `share` of the questions (less those in `skip`)
    and, for a share `negatives` of those, one negative window (hard from BM25 or from the
    same paragraph, half each), and the `rewrites` of the positive; shuffled."""
    import bm25s

    rng = random.Random(seed)
    out: list[Example] = []
    for title, raw in read_squad(path):
        paragraphs = [_Paragraph(p["context"], split_sentences(p["context"])) for p in raw]
        # Every window of three sentences (fewer at a paragraph's ends), for BM25.
        pool = [(pi, neighbour_window(p.sentences, i))
                for pi, p in enumerate(paragraphs) for i in range(len(p.sentences))]
        texts = [paragraphs[pi].text[s.start : s.end] for pi, s in pool]
        retriever = bm25s.BM25()
        retriever.index(bm25s.tokenize(texts, stopwords="en", show_progress=False),
                        show_progress=False)
        names = _names(" ".join(p.text for p in paragraphs))
        words = _words(" ".join(p.text for p in paragraphs))
        for p, row in zip(paragraphs, raw, strict=True):
            for qa in row["qas"]:
                if rng.random() >= share or qa["question"] in skip:
                    continue
                answer = qa["answers"][0]
                start = answer["answer_start"]
                end = start + len(answer["text"])
                positive = _positive(qa["question"], p, start, end, rng, title)
                if positive is None:
                    continue
                out.append(positive)
                if rng.random() < negatives:
                    negative = (_hard_negative(qa["question"], answer["text"], texts, retriever,
                                               title) if rng.random() < 0.5 else None)
                    negative = negative or _paragraph_negative(qa["question"], answer["text"],
                                                               p, start, end, rng, title)
                    if negative is not None:
                        out.append(negative)
                out += _rewritten(positive, names, words, rewrites, rng)
    rng.shuffle(out)
    return out


def squad2_examples(path: Path, rng: random.Random,
                    held_out: Collection[str] = ()) -> list[Example]:
    """A window for every question of a SQuAD 2.0 file outside the articles `held_out`: an
    answerable one's positive, an unanswerable one's window around its first plausible
    answer, labelled "no answer". A question without a plausible answer, or whose answer
    no sentence of its paragraph holds, gives none."""
    out: list[Example] = []
    for title, raw in read_squad(path):
        if title in held_out:
            continue
        for row in raw:
            p = _Paragraph(row["context"], split_sentences(row["context"]))
            for qa in row["qas"]:
                golds = qa["answers"] or qa.get("plausible_answers") or []
                if not golds:
                    continue
                start = golds[0]["answer_start"]
                end = start + len(golds[0]["text"])
                positive = _positive(qa["question"], p, start, end, rng, title)
                if positive is None:
                    continue
                out.append(positive if qa["answers"]
                           else Example(qa["question"], positive.window, article=title))
    return out


def _shape(rng: random.Random) -> tuple[int, int]:
    """Sentences before and after the centre: mostly one each, as the pipeline reads."""
    if rng.random() < 0.6:
        return 1, 1
    return rng.choice([(0, 0), (0, 1), (1, 0), (2, 0), (0, 2), (1, 2), (2, 1)])


def _positive(question: str, p: _Paragraph, start: int, end: int, rng: random.Random,
              title: str) -> Example | None:
    holding = [i for i, s in enumerate(p.sentences) if s.start < end and s.end > start]
    if not holding:
        return None
    before, after = _shape(rng)
    first = max(holding[0] - before, 0)
    last = min(holding[-1] + after, len(p.sentences) - 1)
    span = window_span(p.sentences, first, last)
    if start < span.start or end > span.end:
        return None
    return Example(question, p.text[span.start : span.end], start - span.start,
                   end - span.start, title)


def _hard_negative(question: str, answer: str, texts: list[str], retriever: object,
                   title: str) -> Example | None:
    import bm25s

    k = min(8, len(texts))
    rows, _ = retriever.retrieve(  # type: ignore[attr-defined]
        bm25s.tokenize([question], stopwords="en", show_progress=False), k=k,
        show_progress=False)
    needle = answer.lower()
    for row in rows[0]:
        if needle not in texts[int(row)].lower():
            return Example(question, texts[int(row)], article=title)
    return None


def _paragraph_negative(question: str, answer: str, p: _Paragraph, start: int, end: int,
                        rng: random.Random, title: str) -> Example | None:
    """A window of the answer's own paragraph that does not reach the answer."""
    needle = answer.lower()
    choices = []
    for i in range(len(p.sentences)):
        before, after = _shape(rng)
        span = window_span(p.sentences, max(i - before, 0),
                           min(i + after, len(p.sentences) - 1))
        text = p.text[span.start : span.end]
        if (span.end <= start or span.start >= end) and needle not in text.lower():
            choices.append(text)
    return Example(question, rng.choice(choices), article=title) if choices else None


# A name (a capitalised word not at the question's start) or a number of 1 to 4 digits.
_NAME = re.compile(r"(?<!^)(?<![\w.])(?:[A-Z][a-z]{2,}|\d{1,4})\b")


# In the article, only mid-sentence ones: a capital after a full stop is no sign of a name.
_ARTICLE_NAME = re.compile(r"(?<=[a-z,] )(?:[A-Z][a-z]{2,}|\d{1,4})\b")


def _names(text: str) -> dict[str, list[str]]:
    """The article's names and numbers by kind ("Aa" names, "0000" numbers by digit count),
    leaving out words the article also writes in lower case ("Music", "music")."""
    lower = set(re.findall(r"\b[a-z]{3,}\b", text))
    kinds: dict[str, set[str]] = {}
    for word in _ARTICLE_NAME.findall(text):
        if word.lower() not in lower:
            kinds.setdefault(_kind(word), set()).add(word)
    return {kind: sorted(words) for kind, words in kinds.items()}


def _kind(word: str) -> str:
    return "0" * len(word) if word.isdigit() else "Aa"


def _swapped(positive: Example, names: dict[str, list[str]],
             rng: random.Random) -> Example | None:
    """The positive's window with its question made unanswerable there, or None."""
    window = positive.window
    held = [m for m in _NAME.finditer(positive.question)
            if re.search(rf"\b{re.escape(m.group())}\b", window)]
    if not held:
        return None
    match = rng.choice(held)
    others = [w for w in names.get(_kind(match.group()), ())
              if w.lower() not in window.lower()]
    if not others:
        return None
    question = (positive.question[: match.start()] + rng.choice(others)
                + positive.question[match.end() :])
    return Example(question, window, article=positive.article)


def _rewritten(positive: Example, names: dict[str, list[str]], words: list[str],
               rewrites: Rewrites, rng: random.Random) -> list[Example]:
    """The rewrites drawn for one positive (no draw for a share of 0: old seeds hold)."""
    out = []
    if rewrites.swaps and rng.random() < rewrites.swaps:
        out.append(_swapped(positive, names, rng))
    if rewrites.words and rng.random() < rewrites.words:
        out.append(_word_swapped(positive, words, rng))
    if rewrites.negations and rng.random() < rewrites.negations:
        out.append(_negated(positive))
    return [e for e in out if e is not None]


_STOP = frozenset("""about after also been before being between both could does during each
from have into many more most much other over same some such than that their them then there
these they this those through under until very were what when where which while whom whose
with would year years""".split())
_CONTENT = re.compile(r"\b[a-z]{4,}\b")


def _words(text: str) -> list[str]:
    """The article's lower-case content words, for word swaps."""
    return sorted(set(_CONTENT.findall(text)) - _STOP)


def _word_swapped(positive: Example, words: list[str], rng: random.Random) -> Example | None:
    """The positive's window, a content word of its question that the window holds swapped
    for an article word that the window lacks; None when there is no such pair."""
    window = positive.window.lower()
    held = [m for m in _CONTENT.finditer(positive.question)
            if m.group() not in _STOP and re.search(rf"\b{m.group()}\b", window)]
    if not held or not words:
        return None
    match = rng.choice(held)
    for _ in range(8):
        other = rng.choice(words)
        if other not in window:
            question = (positive.question[: match.start()] + other
                        + positive.question[match.end() :])
            return Example(question, positive.window, article=positive.article)
    return None


# The auxiliary after the question word ("What did", "Who was", "How many people were").
_AUXILIARY = re.compile(r"^\w+(?: \w+){0,3}? (did|does|do|is|was|are|were|can|could|"
                        r"has|have|had|will|would|should)\b(?! not\b)")
# The contraction needs no subject found ("What did Tesla build" -> "What didn't Tesla build").
_NEGATIVE = {"can": "can't", "will": "won't"}


def _negated(positive: Example) -> Example | None:
    """The positive's window with its question's auxiliary negated (where that auxiliary is
    the main verb, "Who has the most votes?", the result reads oddly but still asks
    something the window does not say)."""
    match = _AUXILIARY.match(positive.question)
    if match is None or not positive.question[:1].isupper():
        return None
    auxiliary = match.group(1)
    question = (positive.question[: match.start(1)]
                + _NEGATIVE.get(auxiliary, auxiliary + "n't") + positive.question[match.end() :])
    return Example(question, positive.window, article=positive.article)
