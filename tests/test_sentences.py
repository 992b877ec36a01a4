"""Sentence spans: exact on small texts, and footnote-free on the default corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.records import Span
from rag.sentences import split_sentences

CORPUS = Path(__file__).resolve().parents[1] / "docs" / "aqim-profile.txt"


def texts(text: str) -> list[str]:
    return [text[s.start : s.end] for s in split_sentences(text)]


@pytest.fixture(scope="module")
def corpus() -> str:
    return CORPUS.read_text(encoding="utf-8")


def test_exact_spans_on_four_sentences() -> None:
    text = (
        "Mr. Smith flew to the U.S. in May. He met Dr. Jones at 5 p.m. sharp! Was it useful? Yes."
    )
    assert split_sentences(text) == [Span(0, 34), Span(35, 68), Span(69, 83), Span(84, 88)]
    assert texts(text) == [
        "Mr. Smith flew to the U.S. in May.",
        "He met Dr. Jones at 5 p.m. sharp!",
        "Was it useful?",
        "Yes.",
    ]


def test_abbreviations_do_not_split() -> None:
    assert texts("The U.S. Army left. Mr. Smith stayed. See Fig. 3 for details.") == [
        "The U.S. Army left.",
        "Mr. Smith stayed.",
        "See Fig. 3 for details.",
    ]


def test_line_breaks_and_bullets_end_sentences() -> None:
    text = (
        "Fruits:\n• Apples are red\n• Pears are green.\n"
        "No period on this line\n\n  - Plums are ripe."
    )
    assert split_sentences(text) == [
        Span(0, 7), Span(10, 24), Span(27, 43), Span(44, 66), Span(72, 87),
    ]
    assert texts(text) == [
        "Fruits:", "Apples are red", "Pears are green.", "No period on this line",
        "Plums are ripe.",
    ]


WRAPPED = (
    "Volcanoes of Iceland\n"
    "Iceland sits astride the Mid-Atlantic Ridge, where the North\n"
    "American and Eurasian plates pull apart at about 2 centimetres a\n"
    "year. Hekla erupted in 1104.\n"
    "\n"
    "- Laki erupted in 1783\n"
    "- Surtsey rose from the sea in 1963\n"
    "Name | Height\n"
    "Hekla | 1,491 m\n"
)


def test_wrapped_lines_join_while_titles_items_and_rows_stay_apart() -> None:
    assert split_sentences(WRAPPED) == [
        Span(0, 20), Span(21, 152), Span(153, 175), Span(179, 199), Span(202, 235),
        Span(236, 249), Span(250, 265),
    ]
    assert texts(WRAPPED) == [
        "Volcanoes of Iceland",
        "Iceland sits astride the Mid-Atlantic Ridge, where the North\n"
        "American and Eurasian plates pull apart at about 2 centimetres a\nyear.",
        "Hekla erupted in 1104.",
        "Laki erupted in 1783",
        "Surtsey rose from the sea in 1963",
        "Name | Height",
        "Hekla | 1,491 m",
    ]


def test_a_blank_line_ends_a_sentence_without_a_stop() -> None:
    text = "The wall is measured at\n\n21,196 kilometres by the survey of 2012."
    assert texts(text) == ["The wall is measured at", "21,196 kilometres by the survey of 2012."]


def test_a_page_break_is_a_line_break() -> None:
    text = "A survey in 2012 measured the whole wall at\n\f\n21,196 kilometres in all."
    assert split_sentences(text) == [Span(0, len(text))]


def test_the_default_corpus_keeps_one_sentence_a_line(corpus: str) -> None:
    """Its paragraphs are single lines: no sentence of it spans two."""
    assert not [s for s in split_sentences(corpus) if "\n" in corpus[s.start : s.end]]


def test_inline_bullets_end_sentences() -> None:
    text = "Capitals: Paris • Rome • Madrid"
    assert split_sentences(text) == [Span(0, 15), Span(18, 22), Span(25, 31)]


def test_quotes_and_brackets_stay_with_their_sentence() -> None:
    text = "He said “Go home.” She left. (Then it rained.) The end."
    assert texts(text) == ["He said “Go home.”", "She left.", "(Then it rained.)", "The end."]


def test_footnote_markers_are_left_out() -> None:
    text = "Zebras live in Kenya. [12] Their stripes confuse flies.3 Lions hunt them. 4\n"
    assert split_sentences(text) == [Span(0, 21), Span(27, 55), Span(57, 73)]


def test_digits_that_belong_to_a_word_are_kept() -> None:
    assert texts("3D printers print toys. 4K screens show them.") == [
        "3D printers print toys.", "4K screens show them.",
    ]


@pytest.mark.parametrize("text", ["", "   ", "\n\n", "  \n • \n", "[12] 4"])
def test_no_sentences_without_letters(text: str) -> None:
    assert split_sentences(text) == []


def test_corpus_spans_are_ordered_trimmed_and_single_line(corpus: str) -> None:
    spans = split_sentences(corpus)
    assert len(spans) > 50
    for before, after in zip(spans, spans[1:], strict=False):
        assert before.end <= after.start
    for span in spans:
        piece = corpus[span.start : span.end]
        assert piece == piece.strip()
        assert "\n" not in piece
        assert "•" not in piece


@pytest.mark.parametrize(
    ("context", "marker", "before", "after"),
    [
        ("influence.2 AQIM", "2", "Rid North Africa of Western influence.", "AQIM aligns with"),
        ("Algeria. [71] [72] 4", "[71] [72] 4",
         "Many, but not all, of those kidnapped by AQIM have been Western citizens in Mali, "
         "Mauritania, Niger, and Algeria.", None),
        ("organizations. 5Varying", "5",
         "Money is spent largely on fighters, but the group also spends to develop tribal "
         "alliances and other terror organizations.", "Varying reports from the UN"),
        ("attacks. [73] Its", "[73]",
         "In its early days, AQIM often perpetrated guerilla-style attacks using small arms, in "
         "addition to mortar, rocket, and IED attacks.", "Its most common targets"),
    ],
)
def test_corpus_footnotes_fall_between_sentences(
    corpus: str, context: str, marker: str, before: str, after: str | None
) -> None:
    at = corpus.index(context) + context.index(marker)
    marker_span = range(at, at + len(marker))
    spans = split_sentences(corpus)
    for span in spans:
        assert not set(range(span.start, span.end)) & set(marker_span), corpus[span.start:span.end]
    sentences = texts(corpus)
    i = sentences.index(before)
    assert spans[i].end <= at
    if after is not None:
        assert sentences[i + 1].startswith(after)
        assert spans[i + 1].start >= at + len(marker)


def test_corpus_sentences_never_end_with_a_footnote_number(corpus: str) -> None:
    sentences = texts(corpus)
    # Only numbers that belong to the text end a sentence ("in 2013", "more than 170").
    assert [s[-25:] for s in sentences if s[-1].isdigit()] == [
        "per month in Mali in 2013", "nnel, wound more than 170",
    ]
    assert "Mali’s GDP per capita was $777 in 2012." in sentences
    assert "declared Spain and France its foremost “far enemies.”" in sentences
    assert (
        "AQIM runs its own robust media operations and communications strategy to support "
        "recruitment and messaging." in sentences
    )
