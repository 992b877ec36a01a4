"""Evaluation cases: the project's JSONL format and the SQuAD adapter that feeds it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from rag.errors import ConfigError


@dataclass(frozen=True, slots=True)
class GoldSpan:
    """Where a gold answer stands: `document.text[start:end]`."""

    doc_id: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Case:
    """One question with its acceptable answers; no answers means it is unanswerable."""

    id: str
    question: str
    answers: tuple[str, ...]
    category: str = ""
    kind: str = "factual"
    history: tuple[str, ...] = ()
    spans: tuple[GoldSpan, ...] = ()

    @property
    def answerable(self) -> bool:
        """True when the documents hold an answer."""
        return bool(self.answers)


def read_cases(path: Path) -> list[Case]:
    """Cases from a JSONL file (one object a line: id, question, answers, ...)."""
    cases = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"Cannot read cases file {path}: {exc.strerror}.") from exc
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            cases.append(Case(
                id=str(row["id"]), question=row["question"], answers=tuple(row["answers"]),
                category=row.get("category", ""), kind=row.get("kind", "factual"),
                history=tuple(row.get("history", ())),
            ))
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"{path}:{number}: not a valid case ({exc!r}).") from exc
    return cases


def locate_answers(cases: Iterable[Case], texts: dict[str, str]) -> list[Case]:
    """Cases with `spans` filled by every occurrence of each gold answer in the documents."""
    located = []
    for case in cases:
        spans: list[GoldSpan] = []
        for answer in case.answers:
            pattern = re.compile(re.escape(answer), re.IGNORECASE)
            for doc_id, text in texts.items():
                spans.extend(GoldSpan(doc_id, m.start(), m.end()) for m in pattern.finditer(text))
        located.append(Case(case.id, case.question, case.answers, case.category, case.kind,
                            case.history, tuple(spans)))
    return located


def squad_doc_id(title: str, number: int) -> str:
    """The document id of one SQuAD paragraph."""
    return f"{title}/{number:04d}.txt"


def write_squad_corpus(squad_json: Path, out_dir: Path) -> int:
    """Write every paragraph of a SQuAD file as its own .txt document; returns the count."""
    data = json.loads(squad_json.read_text(encoding="utf-8"))["data"]
    count = 0
    for article in data:
        folder = out_dir / article["title"]
        folder.mkdir(parents=True, exist_ok=True)
        for number, paragraph in enumerate(article["paragraphs"]):
            path = out_dir / squad_doc_id(article["title"], number)
            if not path.exists() or path.read_text(encoding="utf-8") != paragraph["context"]:
                path.write_text(paragraph["context"], encoding="utf-8")
            count += 1
    return count


def squad_cases(squad_json: Path, paragraphs_from: Path | None = None) -> list[Case]:
    """SQuAD questions as cases, gold spans pointing into the paragraph documents.

    `paragraphs_from` is the open-book file whose paragraphs are the indexed corpus; a v2.0
    question is mapped to the paragraph of that corpus with the same text.
    """
    data = json.loads(squad_json.read_text(encoding="utf-8"))["data"]
    corpus = json.loads((paragraphs_from or squad_json).read_text(encoding="utf-8"))["data"]
    doc_of = {p["context"]: squad_doc_id(a["title"], n)
              for a in corpus for n, p in enumerate(a["paragraphs"])}
    cases = []
    for article in data:
        for paragraph in article["paragraphs"]:
            doc_id = doc_of.get(paragraph["context"])
            for qa in paragraph["qas"]:
                answers = [] if qa.get("is_impossible") else qa["answers"]
                spans = tuple(GoldSpan(doc_id, a["answer_start"],
                                       a["answer_start"] + len(a["text"]))
                              for a in answers if doc_id is not None)
                cases.append(Case(
                    id=qa["id"], question=qa["question"],
                    answers=tuple(dict.fromkeys(a["text"] for a in answers)),
                    category=article["title"],
                    kind="unanswerable" if qa.get("is_impossible") else "factual",
                    spans=spans,
                ))
    return cases
