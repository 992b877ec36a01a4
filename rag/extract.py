"""Pick the best sentence from the retrieved passages and cut the answer span out of it."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from rag.index import Index
from rag.lexical import coverage, idf_weights, term_set
from rag.phrases import Phrase, When, dated, find_phrases, mentioned
from rag.question import Expect, Question
from rag.records import Chunk, Span
from rag.retrieve import Hit


@dataclass(frozen=True, slots=True)
class SentenceWeights:
    """How sentence signals combine: fitted on SQuAD open book (the best sentence holds the
    gold answer for 72.1% of its questions); nearby weights give within half a point."""

    similarity: float = 1.0
    overlap: float = 0.6
    context: float = 0.3  # overlap of the sentence together with the one before it
    passage: float = 0.3
    typed: float = 0.25
    dated: float = 0.3  # a sentence dated otherwise than the question asks ("in April 2007")
    support: float = 0.1  # the least question-word support that lets a phrase stand alone
    name_support: float = 0.25  # the same for names and places, which are harder to pick
    passages: int = 5  # how many top passages give candidate sentences


@dataclass(frozen=True, slots=True)
class Candidate:
    """One possible answer: a span inside a sentence inside a retrieved passage."""

    hit: Hit
    sentence_start: int
    sentence_end: int
    start: int
    end: int
    score: float
    similarity: float
    overlap: float
    context: float
    missing: float  # idf of the weightiest question word absent around the sentence, scaled
    typed: bool
    evidence: Evidence


@dataclass(frozen=True, slots=True)
class Evidence:
    """How well the documents cover the question, for deciding whether to answer at all."""

    passage_overlap: float  # idf-weighted share of the question's words in the passage
    unknown: float  # share of the question's idf from words that no document holds
    context_similarity: float  # cosine of the sentence joined with the one before it
    names_absent: float  # share of the question's names and numbers absent from the passage


def extract(
    index: Index, question: Question, query: np.ndarray, hits: list[Hit],
    weights: SentenceWeights = SentenceWeights(),
) -> list[Candidate]:
    """Candidate answers from the top passages, best first, one per distinct sentence."""
    if not hits:
        return []
    top = hits[0].score or 1.0
    idf = idf_weights(index.lexical, question.stems, len(index.chunks))
    for stem in question.carried:  # a follow-up's borrowed words count half
        idf[stem] *= CARRIED
    asked = _Asked(question, idf)
    vocab = getattr(index.lexical, "vocab_dict", None) or {}
    unknown = coverage(idf, [t for t in idf if t not in vocab])
    # Names a follow-up borrowed from earlier turns need not stand near its answer.
    named = [w for w in _named(question.text) if not term_set(w) & question.carried]
    least = weights.name_support if question.expect in NAMES else weights.support
    passages = hits[: weights.passages]
    cosines = _cosines(index, [h.chunk for h in passages], query)
    seen: set[tuple[str, int]] = set()
    candidates = []
    for hit in passages:
        doc = index.documents[hit.chunk.doc_id]
        spans = index.sentences[doc.doc_id]
        passage_overlap = coverage(idf, term_set(hit.chunk.text))
        names_absent = _absent(named, hit.chunk.text)
        for sid in hit.chunk.sentence_ids:
            if (doc.doc_id, sid) in seen:
                continue
            seen.add((doc.doc_id, sid))
            span = spans[sid]
            previous = spans[sid - 1] if sid > 0 else None
            layout = _layout(doc.text, span.start, span.end,
                             previous.start if previous else -1, previous.end if previous else -1)
            if layout.heading:
                continue  # a heading frames the sentences below it; it answers nothing
            text = doc.text[span.start : span.end]
            similarity, context_similarity = cosines[(doc.doc_id, sid)]
            overlap = coverage(idf, layout.terms)
            context = coverage(idf, layout.around) if layout.leans else overlap
            missing = asked.heaviest_absent(layout.around)
            evidence = Evidence(passage_overlap, unknown, context_similarity, names_absent)
            phrases = _answer_phrases(text, question, doc.text, asked)
            phrase = _best_phrase(text, phrases, question, doc.text, asked, least)
            # Holding a phrase of the kind asked for counts, even one too weakly backed by
            # the question's words to be cut out as the answer.
            typed = bool(phrases)
            elsewhen = asked.dated and _elsewhen(asked.dates, text, layout.before)
            score = (weights.similarity * similarity + weights.overlap * overlap
                     + weights.context * context + weights.passage * hit.score / top
                     + (weights.typed if typed else 0.0) - (weights.dated if elsewhen else 0.0))
            start, end = (span.start + phrase.start, span.start + phrase.end) if phrase else (
                span.start, span.end)
            candidates.append(Candidate(hit, span.start, span.end, start, end, score,
                                        similarity, overlap, context, missing, typed,
                                        evidence))
    candidates.sort(key=lambda c: -c.score)
    return candidates


class _Asked:
    """What every sentence's scoring reads from the question's idf weights, computed once."""

    def __init__(self, question: Question, idf: dict[str, float]) -> None:
        self.idf = idf
        self.terms = frozenset(idf)
        self.heaviest = max(idf.values(), default=0.0) or 1.0
        # A word of the asking clause pulls a phrase FOCUS times harder.
        self.pull = {t: w * (FOCUS if t in question.focus else 1.0) for t, w in idf.items()}
        self.pull_total = sum(self.pull.values()) or 1.0
        self.stems = frozenset(question.stems)
        self.counted = term_set(question.counted)
        self.dates = dated(question.text)  # the months and years it names
        self.dated = any(self.dates)

    def heaviest_absent(self, terms: frozenset[str]) -> float:
        """The idf of the weightiest question word not among `terms`, over the heaviest's."""
        return max(map(self.idf.__getitem__, self.terms - terms), default=0.0) / self.heaviest


@dataclass(frozen=True, slots=True)
class _Layout:
    """What a sentence's place in its document says: is it a heading, and what it leans on."""

    heading: bool
    leans: bool  # whether a sentence or heading before it frames it
    terms: frozenset[str]  # the sentence's own stemmed terms
    around: frozenset[str]  # its terms with those of what it leans on
    before: str  # what it leans on: the sentence before it or its list's heading, or ""


@lru_cache(maxsize=1 << 15)
def _layout(document: str, start: int, end: int, previous_start: int,
            previous_end: int) -> _Layout:
    span = Span(start, end)
    before = _previous(document, span, Span(previous_start, previous_end)
                       if previous_start >= 0 else None)
    own = term_set(document[start:end])
    return _Layout(_is_heading(document, span), bool(before), own,
                   own | term_set(before) if before else own, before)


def _cosines(index: Index, chunks: list[Chunk],
             query: np.ndarray) -> dict[tuple[str, int], tuple[float, float]]:
    """Each sentence's cosine with the question, and that of the sentence joined with the one
    before it on the same line (an answer whose context the question paraphrases is likelier
    right); one matrix product for the sentences of all the passages."""
    blocks = []  # (chunk, first row in the stacked block, lowest sentence id in it)
    rows: list[np.ndarray] = []
    stacked = 0
    for chunk in chunks:
        if not chunk.sentence_ids:
            continue
        low = max(chunk.sentence_ids[0] - 1, 0)
        base = index.sentence_base[chunk.doc_id]
        rows.append(np.arange(base + low, base + chunk.sentence_ids[-1] + 1))
        blocks.append((chunk, stacked, low))
        stacked += len(rows[-1])
    if not rows:
        return {}
    block = index.sentence_vectors[np.concatenate(rows)].astype(np.float32)
    cosine = block @ query
    norms = np.linalg.norm(block, axis=1)
    joined = np.linalg.norm(block[1:] + block[:-1], axis=1)
    out = {}
    for chunk, offset, low in blocks:
        spans = index.sentences[chunk.doc_id]
        text = index.documents[chunk.doc_id].text
        for sid in chunk.sentence_ids:
            i = offset + sid - low
            own = float(cosine[i])
            glued = sid > 0 and "\n" not in text[spans[sid - 1].end : spans[sid].start]
            out[(chunk.doc_id, sid)] = (
                own, float(cosine[i] + cosine[i - 1]) / (float(joined[i - 1]) or 1.0)
                if glued else own / (float(norms[i]) or 1.0))
    return out


def _elsewhen(asked: When, text: str, before: str) -> bool:
    """Whether the sentence is dated to another month or year than the question names: a
    date in it names a month (or year), and the question's is named neither in it nor in
    what it leans on."""
    own = dated(text)
    if not any(own):
        return False
    near = [here | there for here, there in zip(mentioned(text), mentioned(before), strict=True)]
    return any(wanted and mine and not wanted & around
               for wanted, mine, around in zip(asked, own, near, strict=True))


def _named(question: str) -> list[str]:
    """The question's names and numbers: capitalised words after the first, and digits."""
    words = _WORD.findall(question)[1:]
    return [w.strip("’'-") for w in words if w[:1].isupper() or any(ch.isdigit() for ch in w)]


def _absent(named: list[str], text: str) -> float:
    """Share of `named` not found in `text`, ignoring case."""
    if not named:
        return 0.0
    lowered = text.lower()
    return sum(1 for w in named if w.lower() not in lowered) / len(named)


def _previous(text: str, span: Span, previous: Span | None) -> str:
    """What a sentence leans on: the sentence before it on the same line, or else the
    heading ("Recruitment Methods:") of the list or paragraph it stands in."""
    if previous is not None and "\n" not in text[previous.end : span.start]:
        return text[previous.start : previous.end]
    for line in reversed(text[max(0, span.start - HEADING_REACH) : span.start].splitlines()[:-1]):
        line = line.strip()
        if line.endswith(":") and len(line) <= 80:
            return line
    return ""


def _is_heading(text: str, span: Span) -> bool:
    """A markdown heading line ("# Budget") or a short line ending in a colon."""
    line_start = text.rfind("\n", 0, span.start) + 1
    line_end = text.find("\n", span.end)
    line = text[line_start : len(text) if line_end < 0 else line_end].strip()
    return line.startswith("#") or (line.endswith(":") and len(line.split()) <= 8)


HEADING_REACH = 1500  # characters a heading reaches down its list


NAMES = (Expect.NAME, Expect.PERSON, Expect.PLACE, Expect.COUNTRY)
CARRIED = 0.5
INSIDE = 0.5
PREPOSITION = 2.0  # a phrase right after the question's own preposition counts this much more
FOCUS = 3.0  # a word of the asking clause pulls a phrase this many times harder


def _answer_phrases(text: str, question: Question, document: str,
                    asked: _Asked) -> list[Phrase]:
    """The sentence's phrases of the expected kind that could answer the question."""
    if question.expect is Expect.ANY:
        return []
    stems, counted = asked.stems, asked.counted
    kept = []
    for p in _phrases(text, question.expect, question.plural, document):
        words = term_set(text[p.start : p.end])
        if words <= stems:
            continue  # the question's own words are not its answer
        if question.counting and words & stems and not words & (counted | question.focus):
            continue  # "two deadly attacks" answers neither "how many people" nor "how
            # many died in the attacks": a count of what the question only names is context
        kept.append((p, words))
    # A count of the very thing asked about ("16 civilians" for "how many civilians") wins.
    return [p for p, words in kept if counted & words] or [p for p, _ in kept]


def _best_phrase(text: str, phrases: list[Phrase], question: Question, document: str,
                 asked: _Asked, least: float) -> Phrase | None:
    """The phrase among `phrases` that the question's words surround most closely.

    Each question word found in the sentence votes for nearby phrases (its idf, decaying
    with distance); a phrase the document repeats often (the topic itself) counts less.
    None when no phrase gets enough support: the whole sentence is then the answer.
    """
    if not phrases:
        return None
    pull, terms = asked.pull, asked.terms
    anchors = [(start, end, sum(map(pull.__getitem__, stemmed & terms)))
               for start, end, stemmed in _words(text) if not stemmed.isdisjoint(terms)]
    anchors = [a for a in anchors if a[2] > 0]

    def support(p: Phrase, cued: bool = False) -> float:
        # A question word inside the phrase ("river" in "Colorado River") backs it by half.
        near = sum(w * (INSIDE if p.start <= a_start and a_end <= p.end else 1.0)
                   / (1.0 + _gap(p, a_start, a_end) / 12.0) for a_start, a_end, w in anchors)
        repeats = _repeats(text[p.start : p.end], document)
        cue = PREPOSITION if cued and _after(text, p, question.preposition) else 1.0
        return cue * near / asked.pull_total / (1.0 + 0.3 * math.log(max(repeats, 1)))

    # The preposition cue ranks phrases; it does not make a weak phrase strong enough.
    best = max(phrases, key=lambda p: support(p, cued=True))
    return best if support(best) >= least else None


# Every question re-reads the sentences of its top passages: what depends on the text alone
# is computed once (strings cache their hash, so a whole document is a cheap key).
@lru_cache(maxsize=1 << 15)
def _phrases(text: str, expect: Expect, plural: bool, document: str) -> tuple[Phrase, ...]:
    return tuple(find_phrases(text, expect, plural, document))


@lru_cache(maxsize=1 << 15)
def _words(text: str) -> tuple[tuple[int, int, frozenset[str]], ...]:
    """Each word of `text` with its offsets and its stemmed terms."""
    return tuple((m.start(), m.end(), term_set(m.group())) for m in _WORD.finditer(text))


@lru_cache(maxsize=1 << 15)
def _repeats(phrase: str, document: str) -> int:
    """How often `phrase` occurs in `document`."""
    return len(re.findall(re.escape(phrase), document))


def _after(text: str, phrase: Phrase, preposition: str) -> bool:
    """Whether the phrase follows the question's preposition ("against Westerners")."""
    if not preposition:
        return False
    before = text[max(0, phrase.start - 24) : phrase.start].lower().split()
    return preposition in before[-2:]


def _gap(phrase: Phrase, start: int, end: int) -> int:
    """Characters between a phrase and a word (0 when they touch)."""
    return max(start - phrase.end, phrase.start - end, 0)


_WORD = re.compile(r"[\w’'-]+")
