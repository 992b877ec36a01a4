"""Chunks keep exact offsets: `document.text[start:end] == chunk.text`, always."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.chunk import chunk_document, locate, make_splitter
from rag.records import Chunk, Document, Span
from rag.sentences import split_sentences

CORPUS = Path(__file__).resolve().parents[1] / "docs" / "aqim-profile.txt"

UNICODE_TEXT = "\n\n".join(
    f"“Curly quotes” and ‘single ones’ open part {i}.\u00a0Non-breaking\u00a0spaces follow. "
    f"Café, naïve and Cafe\u0301 with a combining accent; emoji 🚀🌍 count as one each.\n"
    f"• A bullet item {i} — with an em dash\n"
    f"• Another bullet… and ellipsis ｆｕｌｌｗｉｄｔｈ text {'¶' * (i % 3)}"
    for i in range(12)
)


def chunks_of(text: str, size: int, overlap: int, first_id: int = 0) -> list[Chunk]:
    doc = Document(doc_id="d.txt", title="d", text=text, sha256="0")
    return chunk_document(doc, split_sentences(text), make_splitter(size, overlap), first_id)


def check_invariants(text: str, chunks: list[Chunk], size: int, overlap: int) -> None:
    assert chunks
    sentences = split_sentences(text)
    assert [c.text for c in chunks] == make_splitter(size, overlap).split_text(text)
    covered = [False] * len(text)
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.text and chunk.text == chunk.text.strip()
        assert len(chunk.text) <= size
        overlapping = tuple(
            j for j, s in enumerate(sentences) if s.start < chunk.end and s.end > chunk.start
        )
        assert chunk.sentence_ids == overlapping
        for i in range(chunk.start, chunk.end):
            covered[i] = True
    # Every visible character lands in some chunk: nothing is dropped between chunks.
    assert all(covered[i] for i, ch in enumerate(text) if not ch.isspace())
    for before, after in zip(chunks, chunks[1:], strict=False):
        assert before.start <= after.start and before.end < after.end
        assert text[before.end : after.start].strip() == ""
        if overlap == 0:
            assert after.start >= before.end
        else:
            assert after.start >= before.end - overlap


@pytest.fixture(scope="module")
def corpus() -> str:
    return CORPUS.read_text(encoding="utf-8")


@pytest.mark.parametrize(("size", "overlap"), [(200, 50), (800, 120), (300, 0), (100, 99)])
def test_corpus_offsets_hold(corpus: str, size: int, overlap: int) -> None:
    chunks = chunks_of(corpus, size, overlap, first_id=7)
    check_invariants(corpus, chunks, size, overlap)
    assert [c.chunk_id for c in chunks] == list(range(7, 7 + len(chunks)))
    assert {c.doc_id for c in chunks} == {"d.txt"}
    assert all(c.page is None for c in chunks)
    overlapping = [b.start < a.end for a, b in zip(chunks, chunks[1:], strict=False)]
    assert any(overlapping) == (overlap > 0)


@pytest.mark.parametrize(("size", "overlap"), [(100, 30), (150, 0), (400, 120)])
def test_unicode_offsets_hold(size: int, overlap: int) -> None:
    chunks = chunks_of(UNICODE_TEXT, size, overlap, first_id=3)
    check_invariants(UNICODE_TEXT, chunks, size, overlap)
    assert [c.chunk_id for c in chunks] == list(range(3, 3 + len(chunks)))
    joined = "".join(c.text for c in chunks)
    for needle in ("🚀🌍", "Cafe\u0301", "\u00a0Non-breaking\u00a0", "“Curly", "• A bullet"):
        assert needle in joined


def test_exact_spans_with_overlap() -> None:
    text = (
        "Alpha is the first. Beta comes second. Gamma is third. Delta is fourth. "
        "Epsilon is fifth. Zeta is last of all."
    )
    chunks = chunks_of(text, 60, 25, first_id=5)
    assert [(c.chunk_id, c.start, c.end, c.sentence_ids) for c in chunks] == [
        (5, 0, 54, (0, 1, 2)),
        (6, 39, 89, (2, 3, 4)),
        (7, 72, 110, (4, 5)),
    ]
    assert chunks[1].text == "Gamma is third. Delta is fourth. Epsilon is fifth."
    no_overlap = chunks_of(text, 60, 0)
    assert [(c.start, c.end, c.sentence_ids) for c in no_overlap] == [
        (0, 54, (0, 1, 2)), (55, 110, (3, 4, 5)),
    ]


def test_paragraphs_split_first() -> None:
    text = "Alpha is the first. Beta comes second. Gamma is third.\n\nDelta is fourth. Zeta ends."
    chunks = chunks_of(text, 60, 40)
    assert [(c.start, c.end, c.text) for c in chunks] == [
        (0, 54, "Alpha is the first. Beta comes second. Gamma is third."),
        (56, 83, "Delta is fourth. Zeta ends."),
    ]


def test_repeated_passage_is_placed_where_it_is() -> None:
    # The last paragraph also ends the one before it; it must not be placed at that copy.
    text = (
        "Status report for the first week of May.\n\n"
        "Budget, staffing and the schedule are all unchanged since April. The plan is approved."
        "\n\nThe plan is approved.\n"
    )
    chunks = chunks_of(text, 100, 0)
    assert [(c.start, c.end) for c in chunks] == [(0, 40), (42, 128), (130, 151)]
    assert chunks[2].sentence_ids == (3,)
    check_invariants(text, chunks, 100, 0)


def test_locate_uses_the_overlap_bound() -> None:
    text = "ab ab ab ab"
    assert locate(text, ["ab ab", "ab ab"], overlap=0) == [Span(0, 5), Span(6, 11)]
    assert locate(text, ["ab ab", "ab ab"], overlap=3) == [Span(0, 5), Span(3, 8)]
    with pytest.raises(ValueError, match="not found"):
        locate(text, ["ab", "zz"])


def test_pages_come_from_the_document() -> None:
    page_one = "Glaciers carve deep valleys over thousands of years in the high Alps."
    page_two = "Meltwater from glaciers feeds the rivers of the plains below them."
    text = f"{page_one}\n\n{page_two}"
    doc = Document("g.pdf", "g", text, "0", page_starts=(0, len(page_one) + 2))
    chunks = chunk_document(doc, split_sentences(text), make_splitter(100, 20), 0)
    assert [(c.start, c.end, c.page) for c in chunks] == [
        (0, len(page_one), 1), (len(page_one) + 2, len(text), 2),
    ]
