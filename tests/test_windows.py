"""Choosing windows: the sentences that match the question best, with a neighbour each side."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import index_corpus

from rag.embed import Encoder
from rag.index import Index
from rag.lexical import idf_weights, terms
from rag.reader.windows import Choice, around, choose_windows
from rag.retrieve import retrieve

DOCS = {
    "dam.txt": "The Hoover Dam stands in the Black Canyon. It was completed in 1936. "
               "It was built on the Colorado River. About 21,000 workers built it. "
               "It was named after Herbert Hoover.\n",
    "bridge.txt": "The Golden Gate Bridge opened in 1937. Joseph Strauss was its chief engineer.\n",
}


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder) -> Index:
    return index_corpus(tmp_path_factory.mktemp("windows"), DOCS, encoder)[1].index


def _windows(index: Index, encoder: Encoder, question: str, **choice: int) -> list[str]:
    vector = encoder.encode_query(question)
    hits = retrieve(index, question, vector, 5)
    return [w.text for w in choose_windows(index, _idf(index, question), vector, hits,
                                           Choice(**choice))]


def test_best_sentence_with_its_neighbours(index: Index, encoder: Encoder) -> None:
    texts = _windows(index, encoder, "Who was the chief engineer of the Golden Gate Bridge?",
                     windows=1)
    assert texts == ["The Golden Gate Bridge opened in 1937. Joseph Strauss was its chief "
                     "engineer."]


def test_windows_are_document_text_and_do_not_repeat_a_centre(index: Index,
                                                              encoder: Encoder) -> None:
    vector = encoder.encode_query("When was the Hoover Dam completed?")
    hits = retrieve(index, "When was the Hoover Dam completed?", vector, 5)
    windows = choose_windows(index, _idf(index, "When was the Hoover Dam completed?"), vector,
                             hits, Choice(windows=3))
    assert windows[0].doc_id == "dam.txt"
    assert "completed in 1936" in windows[0].text
    for w in windows:
        assert index.documents[w.doc_id].text[w.start : w.end] == w.text
    centres = [(w.doc_id, w.sentence_id) for w in windows]
    assert len(set(centres)) == len(centres)
    assert [w.score for w in windows] == sorted((w.score for w in windows), reverse=True)


def _idf(index: Index, question: str) -> dict[str, float]:
    return idf_weights(index.lexical, terms(question), len(index.chunks))


def test_long_neighbours_are_dropped(tmp_path: Path, encoder: Encoder) -> None:
    long = "Filler words about nothing in particular go on and on here. " * 15
    text = f"{long.strip()} The key fact is 42. {long.strip()}\n"
    index = index_corpus(tmp_path, {"long.txt": text}, encoder)[1].index
    spans = index.sentences["long.txt"]
    centre = next(i for i, s in enumerate(spans) if "42" in text[s.start : s.end])
    first, last = around(spans, centre, Choice().max_chars)
    assert spans[last].end - spans[first].start <= Choice().max_chars
    assert first <= centre <= last
