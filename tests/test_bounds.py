"""Answers stay inside sentences: cut at footnote markers and bullets, not at wrapped lines."""

from __future__ import annotations

from rag.reader.bounds import within_sentences
from rag.records import Span
from rag.sentences import split_sentences


def _cut(text: str, answer: str, through: str) -> tuple[str, str] | None:
    """Cut a span from `answer`'s start to `through`'s end; (answer text, sentence text)."""
    start = text.index(answer)
    end = text.index(through) + len(through)
    cut = within_sentences(text, split_sentences(text), start, end)
    return None if cut is None else (text[cut[0].start : cut[0].end],
                                     text[cut[1].start : cut[1].end])


def test_footnote_marker_ends_the_answer() -> None:
    text = "Rid North Africa of Western influence.2 AQIM aligns with al-Qaeda."
    assert _cut(text, "Western influence", "AQIM") == (
        "Western influence.", "Rid North Africa of Western influence.")


def test_bullet_ends_the_answer() -> None:
    text = "• Algeria\n• Mali\n"
    assert _cut(text, "Algeria", "Mali") == ("Algeria", "Algeria")


def test_wrapped_line_does_not_end_the_answer() -> None:
    text = "The survey measured the wall at\n21,196 kilometres in 2012.\n\nNext paragraph."
    sentence = "The survey measured the wall at\n21,196 kilometres in 2012."  # one, wrapped
    assert _cut(text, "21,196", "kilometres") == ("21,196 kilometres", sentence)
    assert _cut(text, "the wall", "kilometres") == ("the wall at\n21,196 kilometres", sentence)


def test_blank_line_ends_the_answer() -> None:
    text = "The wall is long\n\nIt was built over centuries."
    assert _cut(text, "long", "built") == ("long", "The wall is long")


def test_start_between_sentences_is_none() -> None:
    text = "First sentence.2 Second one."
    assert within_sentences(text, split_sentences(text), text.index("2"), len(text)) is None
    assert within_sentences(text, [Span(0, 5)], 0, 0) is None
