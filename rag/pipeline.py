"""The pipeline: question in, cited answer out. API, CLI and evaluation all call this.

retrieve -> choose windows -> read -> abstain, each stage its own module.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from rag.abstain import Calibration, features, load_calibration, read_question
from rag.config import Settings
from rag.embed import Encoder, open_encoder
from rag.followup import Turn, standalone_question
from rag.index import Index, expected_manifest
from rag.lexical import idf_weights, terms
from rag.reader.bounds import within_sentences
from rag.reader.onnx_reader import Reader, open_reader
from rag.reader.windows import Choice, Window, choose_windows
from rag.records import Alternative, Answer, AnswerSpan, Citation, Passage, Span
from rag.retrieve import Hit, retrieve
from rag.store import load_index

ALTERNATIVES = 3


@dataclass(frozen=True)
class Prediction:
    """An answer with what evaluation and calibration need beside it."""

    answer: Answer
    features: dict[str, float] = field(default_factory=dict)  # of the best span, if any


class Pipeline:
    """Retrieval, window choice, reading and calibrated abstention over one loaded index."""

    def __init__(self, index: Index, encoder: Encoder, reader: Reader,
                 calibration: Calibration, choice: Choice | None = None) -> None:
        self.index = index
        self.encoder = encoder
        self.reader = reader
        self.calibration = calibration
        self.choice = choice or Choice()

    @classmethod
    def load(cls, settings: Settings, encoder: Encoder | None = None,
             calibration_path: Path | None = None, reader: Reader | None = None,
             index: Index | None = None) -> Pipeline:
        """Load the index in settings.index_dir, the encoder and the reader (or reuse them:
        `index` as a build just loaded or wrote it)."""
        encoder = encoder or open_encoder(settings)
        if index is None:
            index = load_index(settings.index_dir, expected_manifest(settings, encoder.dimension))
        calibration = load_calibration(calibration_path) if calibration_path else load_calibration()
        return cls(index, encoder, reader or open_reader(settings), calibration)

    def search(self, query: str, k: int = 5) -> list[Passage]:
        """Retrieval only: the k best passages."""
        vector = self.encoder.encode_query(query)
        return [self._passage(h) for h in retrieve(self.index, query, vector, k)]

    def chat(self, turns: list[Turn], k: int = 5) -> Answer:
        """Answer the last user message; the conversation only helps find the windows."""
        last = next((t.content for t in reversed(turns) if t.role == "user"), "")
        return self.ask(last, k, standalone=standalone_question(turns))

    def ask(self, question: str, k: int = 5, standalone: str | None = None) -> Answer:
        """A verbatim answer with citations, or answer=None when the documents do not say.

        `standalone` is the question to search when `question` is a follow-up; the reader
        always reads `question` as asked.
        """
        return self.predict(question, k, standalone).answer

    def predict(self, question: str, k: int = 5, standalone: str | None = None) -> Prediction:
        """`ask`, with the best span's confidence features beside the answer."""
        question = _printable(question)
        searched = _printable(standalone) if standalone else None
        query = searched or question
        clock = time.perf_counter()
        timings: dict[str, float] = {}

        def lap(stage: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            timings[stage] = round((now - clock) * 1000, 3)
            clock = now

        vector = self.encoder.encode_query(query)
        lap("encode")
        hits = retrieve(self.index, query, vector, max(k, 5))
        lap("search")
        idf = idf_weights(self.index.lexical, terms(query), len(self.index.chunks))
        windows = choose_windows(self.index, idf, vector, hits, self.choice)
        lap("windows")
        vocab = getattr(self.index.lexical, "vocab_dict", None) or {}
        asked = read_question(query, idf, vocab)
        top = hits[0].score if hits else 0.0  # no hits: no spans, and no features asked

        def clear(spans: list[AnswerSpan]) -> bool:
            best = features(spans[0], spans, windows, asked, top)
            return self.calibration.probability(best) >= self.choice.sure

        spans = self._read(question, windows, clear)
        lap("read")
        passages = [self._passage(h) for h in hits[:k]]
        if not spans:
            return Prediction(Answer(question=question, answer=None, confidence=0.0,
                                     passages=passages, standalone_question=searched,
                                     timings=timings))
        shown = _distinct(spans, [self._text(s) for s in spans])[: ALTERNATIVES + 1]
        values = [features(s, spans, windows, asked, top) for s in shown]
        confidences = [self.calibration.probability(v) for v in values]
        abstain = confidences[0] < self.calibration.threshold
        # When abstaining, the held-back best span leads the alternatives.
        others = range(len(shown)) if abstain else range(1, len(shown))
        alternatives = [Alternative(answer=self._text(shown[i]),
                                    confidence=round(confidences[i], 4),
                                    citations=[self._citation(shown[i], windows)])
                        for i in others][:ALTERNATIVES]
        lap("answer")
        answer = Answer(
            question=question,
            answer=None if abstain else self._text(shown[0]),
            confidence=round(confidences[0], 4),
            citations=[] if abstain else [self._citation(shown[0], windows)],
            passages=passages, alternatives=alternatives, standalone_question=searched,
            timings=timings,
        )
        return Prediction(answer, values[0])

    def _read(self, question: str, windows: list[Window],
              clear: Callable[[list[AnswerSpan]], bool]) -> list[AnswerSpan]:
        """The spans of the first windows, and of the rest only when those give no clear
        answer: reading is most of a question's time."""
        first = self.choice.first
        spans = self._inside_sentences(self.reader.read(question, windows[:first]))
        if len(windows) > first and (not spans or not clear(spans)):
            more = self.reader.read(question, windows[first:])
            spans += self._inside_sentences([replace(s, window=s.window + first) for s in more])
            spans.sort(key=lambda s: -s.margin)
        return spans

    def _inside_sentences(self, spans: list[AnswerSpan]) -> list[AnswerSpan]:
        """Spans cut back to the sentences they stand in (`rag/reader/bounds.py`)."""
        out = []
        for s in spans:
            cut = within_sentences(self.index.documents[s.doc_id].text,
                                   self.index.sentences[s.doc_id], s.start, s.end)
            if cut is not None:
                out.append(replace(s, end=cut[0].end))
        return out

    def _text(self, s: AnswerSpan) -> str:
        return self.index.documents[s.doc_id].text[s.start : s.end]

    def _citation(self, s: AnswerSpan, windows: list[Window]) -> Citation:
        doc = self.index.documents[s.doc_id]
        chunk = windows[s.window].hit.chunk
        cut = within_sentences(doc.text, self.index.sentences[s.doc_id], s.start, s.end)
        sentence = cut[1] if cut else Span(s.start, s.end)
        return Citation(
            doc_id=doc.doc_id, start=s.start, end=s.end, text=doc.text[s.start : s.end],
            sentence=doc.text[sentence.start : sentence.end],
            sentence_start=sentence.start, sentence_end=sentence.end,
            passage=chunk.text, passage_start=chunk.start, passage_end=chunk.end,
            chunk_id=chunk.chunk_id, page=doc.page_at(s.start), score=round(s.margin, 4),
        )

    def _passage(self, hit: Hit) -> Passage:
        c = hit.chunk
        return Passage(doc_id=c.doc_id, chunk_id=c.chunk_id, start=c.start, end=c.end,
                       text=c.text, page=c.page, score=round(hit.score, 4))


def _distinct(spans: list[AnswerSpan], texts: list[str]) -> list[AnswerSpan]:
    """Spans whose text differs from every better one and which overlap none of them."""
    seen: set[str] = set()
    kept: list[AnswerSpan] = []
    for s, text in zip(spans, texts, strict=True):
        key = " ".join(text.lower().split())
        if key in seen or any(k.doc_id == s.doc_id and k.start < s.end and s.start < k.end
                              for k in kept):
            continue
        seen.add(key)
        kept.append(s)
    return kept


def _printable(text: str) -> str:
    """The text with lone surrogates (invalid in UTF-8) replaced, so tokenisers accept it."""
    return text.encode("utf-8", "replace").decode("utf-8")
