"""What a question asks for: the kind of answer it expects and its content terms."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from rag.lexical import STOPWORDS
from rag.lexical import terms as lexical_terms


class Expect(StrEnum):
    """The kind of phrase that answers a question; ANY means a sentence will do."""

    DATE = "date"
    NUMBER = "number"
    MONEY = "money"
    PERSON = "person"
    PLACE = "place"
    COUNTRY = "country"  # a place that is a country: "which nation"
    NAME = "name"  # a person, group or organisation
    ANY = "any"


# First match wins; patterns see the lower-cased question.
_RULES: tuple[tuple[str, Expect], ...] = (
    (r"\bhow much (money|did .* (pay|cost|spend|earn|receive))|\bhow much\b.*\b(cost|paid|pay|"
     r"worth|salar|spend|spent|earn|bonus|ransom|price|budget|fund)", Expect.MONEY),
    (r"\b(what|how much)\b.*\b(salar|wage|bonus|gdp|price|cost|ransom|budget|paid|pay)",
     Expect.MONEY),
    (r"\bwhen\b|\bwhat (year|date|day|month|decade|century|time|period|era)\b"
     r"|\bwhich (year|date|day|month|decade|century)\b|\bin what (year|month|decade|century)\b"
     r"|\bhow long ago\b|\bsince when\b", Expect.DATE),
    (r"\bhow (many|much|long|old|far|large|big|tall|high|fast|often|deep|wide)\b"
     r"|\bwhat (percentage|percent|proportion|number|amount|share|fraction)\b"
     r"|\bwhat (is|was) the (population|number|amount|percentage|size)\b", Expect.NUMBER),
    (r"\bwho(m|se)?\b|\bwhich (person|man|woman|leader|group|organi[sz]ation|company|"
     r"individual|team|scientist|king|president)\b|\bwhat (person|group|organi[sz]ation|"
     r"company|team|name)\b|\bnames? of\b", Expect.NAME),
    (r"\b(what|which) (country|countries|nation|nations)\b", Expect.COUNTRY),
    (r"\bwhere\b|\b(what|which) (city|cities|place|region|town|state|continent|area|"
     r"location|province|capital|river|lake|island|mountain|sea|ocean|port|street|building|"
     r"village)\b", Expect.PLACE),
)
_COMPILED = tuple((re.compile(p), e) for p, e in _RULES)
_PLURAL = re.compile(r"\b(which|what) \w*(ies|[^s]s)\b|\bwho (are|were)\b|\bwhom\b.*\b(are|were)\b")
_AUX = r"(?:were|was|are|is|did|do|does|have|has|had|will|would|can|could)"
_COUNTED = re.compile(
    rf"\bhow many (?!{_AUX}\b)((?:[a-z-]+ ){{0,2}}?[a-z-]+?)\b(?= {_AUX}\b| [a-z]+ed\b|\?|$)"
)
# The asking clause ends at the first preposition or comma after its first words
# ("how many of them were soldiers" is one clause).
_CLAUSE_END = re.compile(r"(?<=\w{3})(?<!how many|how much) (?:in|on|at|during|by|from|for|"
                         r"after|before|since|of|with|to|against|near|under|over)\b|,")
# Only prepositions that tell answers apart: "in", "on", "at" stand before most dates and places.
_PREPOSITION = re.compile(r"\b(against|from|to|by|with|for|into|near|under|between|among|"
                          r"through|toward|towards)"
                          r" (?:whom|who|what|which|where|when)\b")
_TOKEN = re.compile(r"[\w’'-]+")


@dataclass(frozen=True, slots=True)
class Question:
    """A parsed question: text, expected answer kind, and its content words (lower case)."""

    text: str
    expect: Expect
    terms: frozenset[str]
    stems: tuple[str, ...] = ()  # BM25's stemmed terms
    plural: bool = False  # asks for several things ("which countries")
    counting: bool = False  # asks "how many"
    counted: str = ""  # what "how many" counts: "people" in "how many people were killed"
    focus: frozenset[str] = frozenset()  # stems of the asking clause: "people were killed"
    carried: frozenset[str] = frozenset()  # stems a follow-up borrowed from earlier turns
    preposition: str = ""  # the one before the question word: "against" in "against whom"


def parse_question(text: str, expect_from: str | None = None) -> Question:
    """The expected answer kind (read from `expect_from`, default `text`) and content words."""
    lowered = text.lower()
    asked = (expect_from or text).lower()
    expect = next((e for pattern, e in _COMPILED if pattern.search(asked)), Expect.ANY)
    words = (re.sub(r"[’']s$", "", m.group()).strip("’'-") for m in _TOKEN.finditer(lowered))
    terms = frozenset(t for t in words
                      if t and t not in STOPWORDS)
    plural = bool(_PLURAL.search(asked))
    counted = _COUNTED.search(asked)
    clause = _CLAUSE_END.split(asked, maxsplit=1)[0]
    stems = tuple(dict.fromkeys(lexical_terms(text)))
    own = set(lexical_terms(asked))
    preposition = _PREPOSITION.search(asked)
    return Question(text, expect, terms, stems, plural, "how many" in asked,
                    counted.group(1) if counted else "",
                    frozenset(lexical_terms(clause)), frozenset(s for s in stems if s not in own),
                    preposition.group(1) if preposition else "")
