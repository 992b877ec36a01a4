"""Turn a follow-up question into a standalone one using the conversation, without an LLM.

"How many people were killed?" after "What happened in Algiers on December 11, 2007?"
becomes "How many people were killed? (happened Algiers December 11 2007)": the key terms
of the previous turns and the entity of the previous answer are carried over, so both
retrievers and the window choice see them (the reader reads the follow-up as asked).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.lexical import STOPWORDS

_DEPENDENT = re.compile(
    r"\b(it|its|it's|they|them|their|theirs|he|him|his|she|her|hers|that|those|this|these|"
    r"there|then|the group|the attack|the attacks|the report|the town|the city|the country|"
    r"the organi[sz]ation|the same|such|former|latter|else|other|others|also|too)\b"
    r"|^(and|but|also|so|what about|how about|and what|why|why not)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[\w’'-]+")
# Source markers and source lists that an assistant message may carry ("[1]", "Sources:").
_MARKER = re.compile(r"^\s*sources?:.*$|^\s*\[\d+\].*$|\[\d+\]", re.IGNORECASE | re.MULTILINE)
MAX_ANSWER_WORDS = 12


@dataclass(frozen=True, slots=True)
class Turn:
    """One message of a conversation."""

    role: str  # "user" or "assistant"
    content: str


def content_words(text: str) -> list[str]:
    """The words of `text` that carry meaning, in order, without repeats."""
    words = (w.strip("’'-") for w in _WORD.findall(text))
    return list(dict.fromkeys(w for w in words if w and w.lower() not in STOPWORDS))


def is_follow_up(question: str) -> bool:
    """True when the question leans on earlier turns: pronouns, ellipsis, few words, or
    nothing specific of its own (no name, no number) as in "How many people were killed?"."""
    words = _WORD.findall(question)
    specific = any(w[0].isupper() or w[0].isdigit() for w in words[1:])
    return bool(_DEPENDENT.search(question)) or len(content_words(question)) <= 1 or not specific


def standalone_question(turns: list[Turn]) -> str:
    """The last user question, completed from the earlier turns when it is a follow-up."""
    users = [i for i, t in enumerate(turns) if t.role == "user"]
    if not users:
        return ""
    last = turns[users[-1]].content.strip()
    if len(users) == 1 or not is_follow_up(last):
        return last
    previous = standalone_question(turns[: users[-1]])
    answer = next((t.content for t in reversed(turns[: users[-1]]) if t.role == "assistant"), "")
    carried = content_words(previous)
    answer_words = content_words(_MARKER.sub(" ", answer))
    if answer_words and len(answer_words) <= MAX_ANSWER_WORDS:
        carried += answer_words
    have = {w.lower() for w in content_words(last)}
    extra = [w for w in dict.fromkeys(carried) if w.lower() not in have]
    return f"{last} ({' '.join(extra)})" if extra else last
