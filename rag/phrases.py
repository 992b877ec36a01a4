"""Typed phrases inside a sentence: dates, numbers, money and proper names, by pattern."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rag.question import Expect

_MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
          r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)")
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_YEAR = r"(?:1\d{3}|20\d{2})"
_DATE = re.compile(
    rf"\b(?:{_MONTH}\.?\s+{_DAY},?\s+{_YEAR}|{_DAY}\s+{_MONTH}\s+{_YEAR}|{_MONTH}\s+{_DAY}"
    rf"(?!\d)|(?:early|late|mid-?|the)?\s?{_MONTH},?\s+{_YEAR}|(?:early|late|mid-?)\s?{_YEAR}s?"
    rf"|{_YEAR}s?(?:\s?(?:BC|AD|BCE|CE))?|\d{{1,2}}(?:st|nd|rd|th) century"
    rf"|\d{{3,4}}\s?(?:BC|AD|BCE|CE))\b"
)
# "one" is left out: far more often a pronoun ("one near the court") than a count.
_NUMBER_WORD = (r"(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|"
                r"fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|"
                r"fifty|sixty|seventy|eighty|ninety|hundred|thousand|dozens?|hundreds|thousands|"
                r"millions?|billions?)")
_QUANT = (r"(?:(?:at least|at most|more than|less than|fewer than|over|under|about|around|"
          r"approximately|nearly|almost|some|up to|roughly|only)\s)?")
_SCALE = r"(?:\s(?:million|billion|trillion|thousand|hundred))?"
_MONEY = re.compile(
    rf"{_QUANT}(?:US)?[$€£¥]\s?\d[\d,]*(?:\.\d+)?{_SCALE}(?:\s?(?:-|–|to|and)\s?[$€£¥]?\d[\d,]*"
    rf"(?:\.\d+)?{_SCALE})?|{_QUANT}\d[\d,]*(?:\.\d+)?{_SCALE}\s(?:dollars|euros|pounds|USD)\b"
)
_NUMBER = re.compile(
    rf"{_QUANT}(?:\d(?:[\d,]*\d)?(?:\.\d+)?{_SCALE}(?:\s?(?:%|percent|per cent))?|\b{_NUMBER_WORD}"
    rf"(?:[\s-]{_NUMBER_WORD})*\b)"
)
_CONNECT = r"(?:of|the|de|du|da|del|al|el|la|le|von|van|der|bin|ibn|for|'s|’s)"
_CAP = r"[A-Z][\w’'.\-]*[\w]|[A-Z]"
# "Côte d’Ivoire", "Jeanne d'Arc": an elided particle glued to the next capitalised word.
_NAME = re.compile(rf"(?:{_CAP})(?:(?:\s|-)(?:{_CONNECT}[\s-]|[dl][’'])?(?:{_CAP}))*")
_MONTH_WORD = re.compile(rf"\b{_MONTH}\b")
_YEAR_WORD = re.compile(rf"\b{_YEAR}\b")
_NOT_A_NAME = re.compile(rf"{_DATE.pattern}|{_MONTH}|(?i:{_NUMBER_WORD})")
_UNIT_WORD = re.compile(r"\s([A-Za-z][a-z’'-]+|[A-Z]{2,5}(?= [a-z]))")  # "10 UN personnel"
_CLAUSE_START = re.compile(r"(?:^|[:;“\"(—–]\s*)$")
_LIST_GAP = re.compile(r",?\s+(?:and|or)\s+|,\s+")
_STOP_WORDS = (
    "of in on at to for from by with and or but is are was were be been that which who as "
    "into than per each including while when where after before during the a an its their his "
    "her this these those"
)
_STOP = frozenset(_STOP_WORDS.split())
# Capitalised words that open sentences or name no one.
_NOT_NAMES_WORDS = (
    "The A An In On At By For From To Of And But Or As It Its This That These Those He She "
    "They We I His Her Their There Here When Where While After Before During Since Although "
    "However Many Some Most Among Between If Because Other Both Each Every All Such Despite "
    "Following Also Then Thus Today Yesterday"
)
_NOT_NAMES = frozenset(_NOT_NAMES_WORDS.split())


@dataclass(frozen=True, slots=True)
class Phrase:
    """A typed phrase at [start, end) of the text it was found in."""

    start: int
    end: int
    kind: Expect


def find_phrases(text: str, expect: Expect, plural: bool = False,
                 document: str = "") -> list[Phrase]:
    """Phrases of the expected kind in `text`, in order of appearance.

    `plural` joins lists of names ("France, Germany, and Mali") into one phrase; `document`,
    the text around `text`, tells a name from a capitalised first word.
    """
    if expect is Expect.DATE:
        return _matches(_DATE, text, expect)
    if expect is Expect.MONEY:
        return _matches(_MONEY, text, expect) or [
            p for p in find_phrases(text, Expect.NUMBER) if _bare_amount(text[p.start : p.end])]
    if expect is Expect.NUMBER:
        dates = _matches(_DATE, text, Expect.DATE)
        return [_with_unit(text, p) for p in _matches(_NUMBER, text, expect)
                if not _inside(p, dates)]
    if expect in (Expect.NAME, Expect.PERSON, Expect.PLACE, Expect.COUNTRY):
        names = [p for p in _names(text, expect)
                 if not _NOT_A_NAME.fullmatch(text[p.start : p.end])
                 and not _opening_word(text, p, document or text)]
        if expect is Expect.COUNTRY:  # the countries among them, or else every name
            names = [p for p in names if is_country(text[p.start : p.end])] or names
        return _join_lists(text, names) if plural else names
    return []


When = tuple[frozenset[str], frozenset[str]]  # months ("apr", "dec") and years ("2007")


@lru_cache(maxsize=1 << 15)
def dated(text: str) -> When:
    """The months and years that the dates in `text` name ("April 11, 2007": apr, 2007)."""
    return mentioned(" ".join(m.group() for m in _DATE.finditer(text)))


@lru_cache(maxsize=1 << 15)
def mentioned(text: str) -> When:
    """The months and years named anywhere in `text`; "Sept." and "September" are one."""
    return (frozenset(m.group()[:3].lower() for m in _MONTH_WORD.finditer(text)),
            frozenset(_YEAR_WORD.findall(text)))


def is_country(name: str) -> bool:
    """Whether `name` is a country's name, short or official ("Côte d’Ivoire", "Mali")."""
    return name.replace("’", "'").casefold() in _countries()


@lru_cache(maxsize=1)
def _countries() -> frozenset[str]:
    import pycountry

    return frozenset(getattr(c, field).casefold() for c in pycountry.countries
                     for field in ("name", "official_name", "common_name") if hasattr(c, field))


def _bare_amount(phrase: str) -> bool:
    """A number in digits that may be money written without its currency ("191.766 billion"),
    not a count of things ("96 workers", "seven hostages") or a share ("10 percent")."""
    last = phrase.split()[-1]
    return any(ch.isdigit() for ch in last) or last in ("million", "billion", "trillion")


def _with_unit(text: str, phrase: Phrase) -> Phrase:
    """A count with the noun it counts: "four policemen", "19 people", "25 miles"."""
    end = phrase.end
    for _ in range(3):
        match = _UNIT_WORD.match(text, end)
        if match is None:
            break
        word = match.group(1).lower()
        if word in _STOP or word.endswith("ed"):  # "96 workers died": no verbs
            break
        end = match.end()
    return Phrase(phrase.start, end, phrase.kind)


def _opening_word(text: str, phrase: Phrase, document: str) -> bool:
    """A single capitalised word that opens a sentence or clause and is never capitalised
    inside a sentence of the document: "Carries out", "Launches hundreds"."""
    word = text[phrase.start : phrase.end]
    if " " in word or word.isupper() or not _CLAUSE_START.search(text[: phrase.start]):
        return False
    return re.search(rf"[a-z,;] {re.escape(word)}\b", document) is None


def _join_lists(text: str, names: list[Phrase]) -> list[Phrase]:
    """Names separated only by commas, "and" or "or" become one phrase."""
    joined: list[Phrase] = []
    for phrase in names:
        if joined and _LIST_GAP.fullmatch(text[joined[-1].end : phrase.start]):
            joined[-1] = Phrase(joined[-1].start, phrase.end, phrase.kind)
        else:
            joined.append(phrase)
    return joined


def _matches(pattern: re.Pattern[str], text: str, kind: Expect) -> list[Phrase]:
    out = []
    for match in pattern.finditer(text):
        start, end = match.start(), match.end()
        while start < end and text[start].isspace():
            start += 1
        if end > start:
            out.append(Phrase(start, end, kind))
    return out


def _names(text: str, kind: Expect) -> list[Phrase]:
    out = []
    for match in _NAME.finditer(text):
        start, end = match.start(), match.end()
        words = text[start:end].split()
        while words and words[0] in _NOT_NAMES:
            start += len(words[0]) + 1
            words = words[1:]
        while end > start and text[end - 1] in ".’'-":
            end -= 1
        if words and end > start:
            out.append(Phrase(start, end, kind))
    return out


def _inside(phrase: Phrase, others: list[Phrase]) -> bool:
    return any(o.start <= phrase.start and phrase.end <= o.end for o in others)
