"""Sentence boundaries as character spans that follow the text, not its line layout.

A single line break inside a paragraph (hard-wrapped text, pdf lines, a pdf page break) is
white space: the sentence goes on. A blank line, a bullet, a list item, a heading, a table
row or a short line (a title, a paragraph's last line) still ends one.

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


# A line that starts a new item whatever the line before it: a list item, a heading, a row.
# Lettered items are "a) ", "(b) " or "c. ": a capital ("J. Smith") may be a wrapped name.
_ITEM = re.compile(r"[ \t]*(?:[•●▪◦]|[-*+>#|][ \t]|\d{1,3}[.)][ \t]|\(?[a-z][.)][ \t])")
_ROW = re.compile(r"\t|\|| {3,}\S")  # a table's cells: tabs, pipes or wide gaps
_FULL = 0.75  # a wrapped line is at least this share of its paragraph's longest line
_PAGE = "\f"  # pdf pages are joined by "\n\f\n": a page break is a line break


def split_sentences(text: str) -> list[Span]:
    """Spans of the sentences of `text`, in order, never crossing a hard break or bullet."""
    spans: list[Span] = []
    for line in _paragraph_runs(text):
        start = line.start()
        for match in _END.finditer(line.group()):
            if _is_abbreviation(line.group(), match.start()):
                continue
            cut = match.start("note") if match.group("note") else match.end()
            _add(text, start, line.start() + cut, spans)
            start = line.start() + match.end()
        _add(text, start, line.end(), spans)
    return spans


def _paragraph_runs(text: str) -> list[re.Match[str]]:
    """Runs of text between hard breaks. Wrapping breaks become spaces in a copy of the text
    of the same length, so the runs' offsets are the text's own."""
    copy = list(text.replace(_PAGE, " "))
    block: list[re.Match[str]] = []
    for line in [*re.finditer(r"[^\n\f]+", text), None]:
        if line is not None and block and _same_block(text, block[-1], line):
            block.append(line)
            continue
        for at in _wrapping_breaks(text, block):
            copy[at] = " "
        block = [line] if line is not None and line.group().strip() else []
    return list(re.finditer(r"[^\n•●▪◦]+", "".join(copy)))


def _same_block(text: str, before: re.Match[str], line: re.Match[str]) -> bool:
    """One line break, or a pdf page break, and no blank line between two lines."""
    return (text[before.end() : line.start()] in ("\n", f"\n{_PAGE}\n")
            and bool(line.group().strip()))


def _wrapping_breaks(text: str, block: list[re.Match[str]]) -> list[int]:
    """Offsets of the line breaks inside a block that only wrap a paragraph: after a full
    line and before a line that starts no item, neither line a table row."""
    words = [line.group().strip() for line in block]
    width = max((len(w) for w in words), default=0)
    out: list[int] = []
    for i in range(len(block) - 1):
        if (len(words[i]) >= _FULL * width and not _ITEM.match(block[i + 1].group())
                and not _ROW.search(words[i]) and not _ROW.search(words[i + 1])):
            out.extend(at for at in range(block[i].end(), block[i + 1].start())
                       if text[at] == "\n")
    return out


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
