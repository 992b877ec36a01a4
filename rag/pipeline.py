"""The pipeline: question in, cited answer out. API, CLI and evaluation all call this."""

from __future__ import annotations

import time
from pathlib import Path

from rag.confidence import Calibration, features, load_calibration
from rag.config import Settings
from rag.embed import Encoder, open_encoder
from rag.extract import Candidate, extract
from rag.followup import Turn, standalone_question
from rag.index import Index, expected_manifest
from rag.question import parse_question
from rag.records import Alternative, Answer, Citation, Passage
from rag.retrieve import Hit, retrieve
from rag.store import load_index


class Pipeline:
    """Retrieval, extraction and calibrated abstention over one loaded index."""

    def __init__(self, index: Index, encoder: Encoder, calibration: Calibration) -> None:
        self.index = index
        self.encoder = encoder
        self.calibration = calibration

    @classmethod
    def load(cls, settings: Settings, encoder: Encoder | None = None,
             calibration_path: Path | None = None) -> Pipeline:
        """Load the index in settings.index_dir and the encoder (or reuse `encoder`)."""
        encoder = encoder or open_encoder(settings)
        index = load_index(settings.index_dir, expected_manifest(settings, encoder.dimension))
        calibration = load_calibration(calibration_path) if calibration_path else load_calibration()
        return cls(index, encoder, calibration)

    def search(self, query: str, k: int = 5) -> list[Passage]:
        """Retrieval only: the k best passages."""
        vector = self.encoder.encode_query(query)
        return [self._passage(h) for h in retrieve(self.index, query, vector, k)]

    def chat(self, turns: list[Turn], k: int = 5) -> Answer:
        """Answer the last user message, completed from the conversation when it follows up."""
        last = next((t.content for t in reversed(turns) if t.role == "user"), "")
        return self.ask(last, k, standalone=standalone_question(turns))

    def ask(self, question: str, k: int = 5, standalone: str | None = None) -> Answer:
        """A verbatim answer with citations, or answer=None when the documents do not say.

        `standalone` is the question to search when `question` is a follow-up.
        """
        question = _printable(question)
        searched = _printable(standalone) if standalone else question
        clock = time.perf_counter()
        timings: dict[str, float] = {}

        def lap(stage: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            timings[stage] = round((now - clock) * 1000, 3)
            clock = now

        parsed = parse_question(searched, expect_from=question)
        vector = self.encoder.encode_query(searched)
        lap("encode")
        hits = retrieve(self.index, searched, vector, max(k, 5))
        lap("search")
        candidates = extract(self.index, parsed, vector, hits)
        lap("extract")
        passages = [self._passage(h) for h in hits[:k]]
        if not candidates:
            return Answer(question=question, answer=None, confidence=0.0, passages=passages,
                          standalone_question=standalone, timings=timings)
        values = features(parsed, candidates)
        confidence = self.calibration.probability(values)
        best = candidates[0]
        abstain = confidence < self.calibration.threshold
        # When abstaining, the held-back best candidate leads the alternatives.
        shown = candidates if abstain else candidates[1:]
        texts = [self._text(c) for c in shown]
        alternatives = [
            Alternative(answer=text, confidence=round(_scaled(confidence, c, best), 4),
                        citations=[self._citation(c)])
            for c, text in _distinct(shown, texts, "" if abstain else self._text(best))[:3]
        ]
        lap("answer")
        answer = Answer(
            question=question,
            answer=None if abstain else self._text(best),
            confidence=round(confidence, 4),
            citations=[] if abstain else [self._citation(best)],
            passages=passages,
            alternatives=alternatives,
            standalone_question=standalone,
            timings=timings,
        )
        answer._features = values
        return answer

    def _text(self, c: Candidate) -> str:
        return self.index.documents[c.hit.chunk.doc_id].text[c.start : c.end]

    def _citation(self, c: Candidate) -> Citation:
        doc = self.index.documents[c.hit.chunk.doc_id]
        chunk = c.hit.chunk
        return Citation(
            doc_id=doc.doc_id, start=c.start, end=c.end, text=doc.text[c.start : c.end],
            sentence=doc.text[c.sentence_start : c.sentence_end],
            sentence_start=c.sentence_start, sentence_end=c.sentence_end,
            passage=chunk.text, passage_start=chunk.start, passage_end=chunk.end,
            chunk_id=chunk.chunk_id, page=doc.page_at(c.start), score=round(c.score, 4),
        )

    def _passage(self, hit: Hit) -> Passage:
        c = hit.chunk
        return Passage(doc_id=c.doc_id, chunk_id=c.chunk_id, start=c.start, end=c.end,
                       text=c.text, page=c.page, score=round(hit.score, 4))


def _distinct(candidates: list[Candidate], texts: list[str],
              best: str) -> list[tuple[Candidate, str]]:
    """Candidates whose answer text differs from the best and from each other."""
    seen = {best.strip().lower()}
    out = []
    for c, text in zip(candidates, texts, strict=True):
        key = text.strip().lower()
        if key not in seen:
            seen.add(key)
            out.append((c, text))
    return out


def _scaled(confidence: float, candidate: Candidate, best: Candidate) -> float:
    """An alternative's confidence: the best one's, scaled by relative score."""
    if best.score <= 0:
        return 0.0
    return max(0.0, min(1.0, confidence * candidate.score / best.score))


def _printable(text: str) -> str:
    """The text with lone surrogates (invalid in UTF-8) replaced, so tokenisers accept it."""
    return text.encode("utf-8", "replace").decode("utf-8")
