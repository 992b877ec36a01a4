"""Sentence boundaries as character spans; line breaks and bullets always end a sentence.

Footnote markers glued to the text of the default corpus ("influence.2 AQIM",
"[71] [72] 4", "5Varying") are kept outside the sentence spans, so an answer cut from
a sentence never carries one.
"""

from __future__ import annotations

import re

from rag.records import Span

_ABBREVIATION_WORDS = (
    "mr mrs ms dr prof st jr sr vs etc no nos fig figs al inc ltd co corp gen col lt sgt "
    "capt gov sen rep jan feb mar apr jun jul aug sep sept oct nov dec mt ft approx est u.s "
    "u.k u.n e.g i.e a.m p.m"
)
_ABBREVIATIONS = frozenset(_ABBREVIATION_WORDS.split())
# A sentence ends at . ! ? (plus closing quotes or brackets), optionally followed by a
# glued footnote number, when white space and a capital, digit, quote or bracket follow.
_END = re.compile(r"[.!?][\"”’'\)\]]*(?P<note>\d{1,3})?(?=\s+[\"“‘'(\[A-Z0-9•])")
# A footnote number glued to the next sentence ("5Varying") is followed by a capitalised
# word; "3D printers" or "4K video" keep their digits.
_LEAD = re.compile(r"^(?:[\s•●▪◦·\-–—*>#]+|\[\d{1,3}\]|\d{1,3}(?=[A-Z][a-z]))+")
_TRAIL = re.compile(
    r"(?<=[.!?\"”’)\]])(?:\s*(?:\[\d{1,3}\]|\d{1,3}))+\s*$"  # "... Algeria. [71] [72] 4"
    r"|(?<=\w)\s\d\s*$"  # a lone footnote digit after the last word: "corporations 2"
    r"|\s+$"
)
_LETTER = re.compile(r"[^\W\d_]")


def split_sentences(text: str) -> list[Span]:
    """Spans of the sentences of `text`, in order, never crossing a line break or bullet."""
    spans: list[Span] = []
    for line in re.finditer(r"[^\n•●▪◦]+", text):
        start = line.start()
        for match in _END.finditer(line.group()):
            if _is_abbreviation(line.group(), match.start()):
                continue
            cut = match.start("note") if match.group("note") else match.end()
            _add(text, start, line.start() + cut, spans)
            start = line.start() + match.end()
        _add(text, start, line.end(), spans)
    return spans


def _is_abbreviation(line: str, dot: int) -> bool:
    if line[dot] != ".":
        return False
    word = re.search(r"([\w.]+)$", line[:dot])
    if not word:
        return False
    token = word.group(1).lower()
    # Single capitals ("J. Smith") and known abbreviations do not end a sentence.
    return token in _ABBREVIATIONS or (len(token) == 1 and line[dot - 1].isupper())


def _add(text: str, start: int, end: int, spans: list[Span]) -> None:
    piece = text[start:end]
    lead = _LEAD.match(piece)
    if lead:
        start += lead.end()
        piece = text[start:end]
    trail = _TRAIL.search(piece)
    if trail:
        end = start + trail.start()
    if end > start and _LETTER.search(text[start:end]):
        spans.append(Span(start, end))
