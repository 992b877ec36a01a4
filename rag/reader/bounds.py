"""Where an answer may lie: inside the document's sentences, never across their markers.

The reader sees a window of plain text; its span is cut back so that it starts inside a
sentence and ends in that sentence, or in the next ones where only a wrapped line's single
line break stands between them (hard-wrapped text and pdf lines). A glued footnote marker,
a bullet or a blank line between two sentences ends the answer.
"""

from __future__ import annotations

import bisect
import re

from rag.records import Span

_WRAPPED = re.compile(r"[ \t]*\n[ \t]*")  # one line break, nothing else


def within_sentences(text: str, sentences: list[Span], start: int,
                     end: int) -> tuple[Span, Span] | None:
    """(the answer, the sentences it stands in), or None when `start` is between sentences."""
    i = bisect.bisect_right(sentences, start, key=lambda s: s.start) - 1
    if i < 0 or start >= sentences[i].end:
        return None
    last = i
    while (end > sentences[last].end and last + 1 < len(sentences)
           and _WRAPPED.fullmatch(text[sentences[last].end : sentences[last + 1].start])):
        last += 1
    end = min(end, sentences[last].end)
    while end > start and text[end - 1].isspace():
        end -= 1
    if end <= start:
        return None
    return Span(start, end), Span(sentences[i].start, sentences[last].end)
