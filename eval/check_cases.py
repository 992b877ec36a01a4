#!/usr/bin/env python3
"""Check an extractive-QA evaluation cases file (JSONL) against the documents it is about."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

KINDS = ("factual", "paraphrase", "unanswerable", "followup")
CATEGORIES = (
    "motto", "areas", "goals", "recruitment", "media", "finances", "tactics",
    "weapons", "enemies", "attacks", "history", "unanswerable",
)
REQUIRED = ("id", "question", "answers", "category", "kind")
TEXT_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm")
MIN_GOLD_CHARS = 4  # shorter gold answers are reported as a warning: too easy to match by chance
COPIED_WORDS = 8  # a question sharing this many consecutive words with a document is reported
ROOT = Path(__file__).resolve().parent.parent  # the defaults below work from any working directory


def load_documents(docs_dir: Path) -> dict[str, str]:
    """Read every text document under `docs_dir` (hidden paths skipped) as {relative path: text}."""
    docs: dict[str, str] = {}
    for path in sorted(docs_dir.rglob("*")):
        rel = path.relative_to(docs_dir)
        if not path.is_file() or any(part.startswith(".") for part in rel.parts):
            continue
        if path.suffix.lower() not in TEXT_SUFFIXES:
            print(f"note: skipping {rel} (only {', '.join(TEXT_SUFFIXES)} are read)",
                  file=sys.stderr)
            continue
        docs[rel.as_posix()] = path.read_text(encoding="utf-8-sig")
    return docs


def words(text: str) -> list[str]:
    """Lower-cased word tokens of `text`."""
    return re.findall(r"\w+", text.lower())


def copied_run(question: str, doc_words: list[list[str]], n: int) -> str | None:
    """The first run of `n` consecutive question words that also occurs in a document, if any."""
    q = words(question)
    grams = {tuple(q[i:i + n]) for i in range(len(q) - n + 1)}
    for dw in doc_words:
        for i in range(len(dw) - n + 1):
            if tuple(dw[i:i + n]) in grams:
                return " ".join(dw[i:i + n])
    return None


def check_case(case: Any, where: str, docs: dict[str, str]) -> list[str]:
    """Every problem with one parsed case, as messages prefixed with `where`."""
    if not isinstance(case, dict):
        return [f"{where}: expected a JSON object, got {type(case).__name__}"]
    problems = [f"{where}: missing field {name!r}" for name in REQUIRED if name not in case]
    if problems:
        return problems
    extra = set(case) - set(REQUIRED) - {"history"}
    if extra:
        problems.append(f"{where}: unknown field(s) {sorted(extra)}")
    if not isinstance(case["id"], str) or not case["id"].strip():
        problems.append(f"{where}: 'id' must be a non-empty string")
    if not isinstance(case["question"], str) or not case["question"].strip():
        problems.append(f"{where}: 'question' must be a non-empty string")
    kind, category, answers = case["kind"], case["category"], case["answers"]
    if kind not in KINDS:
        problems.append(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
    if category not in CATEGORIES:
        problems.append(f"{where}: category {category!r} is not one of {', '.join(CATEGORIES)}")
    if (kind == "unanswerable") != (category == "unanswerable"):
        problems.append(f"{where}: kind {kind!r} and category {category!r} "
                        "disagree about being unanswerable")
    if not isinstance(answers, list) or not all(isinstance(a, str) for a in answers):
        problems.append(f"{where}: 'answers' must be a list of strings")
        return problems
    if kind == "unanswerable":
        if answers:
            problems.append(f"{where}: unanswerable case must have answers [], got {answers}")
    elif not answers:
        problems.append(f"{where}: answerable case has no gold answers")
    for answer in answers:
        if not answer.strip():
            problems.append(f"{where}: empty gold answer")
        elif not any(answer in text for text in docs.values()):
            problems.append(f"{where}: gold answer {answer!r} does not occur verbatim "
                            "in any document")
    history = case.get("history")
    if kind == "followup":
        if not isinstance(history, list) or not history or not all(
                isinstance(h, str) and h.strip() for h in history):
            problems.append(f"{where}: follow-up case needs 'history', "
                            "a non-empty list of questions")
    elif history is not None:
        problems.append(f"{where}: only follow-up cases may have 'history'")
    return problems


def main(argv: list[str] | None = None) -> int:
    """Validate the cases file, print counts, and return 0 when it is clean, 1 otherwise."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("cases", nargs="?", default=ROOT / "eval" / "aqim.jsonl", type=Path,
                        help="JSONL cases file (default: eval/aqim.jsonl)")
    parser.add_argument("--docs", default=ROOT / "docs", type=Path,
                        help="folder of documents the gold answers must occur in (default: docs/)")
    args = parser.parse_args(argv)

    if not args.cases.is_file():
        print(f"error: cases file {args.cases} not found", file=sys.stderr)
        return 1
    if not args.docs.is_dir():
        print(f"error: documents folder {args.docs} not found", file=sys.stderr)
        return 1
    docs = load_documents(args.docs)
    if not docs:
        print(f"error: no readable documents in {args.docs}", file=sys.stderr)
        return 1
    doc_words = [words(text) for text in docs.values()]

    problems: list[str] = []
    warnings: list[str] = []
    cases: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    lines = args.cases.read_text(encoding="utf-8").splitlines()
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{args.cases}:{lineno}"
        try:
            case = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{where}: invalid JSON ({exc.msg} at column {exc.colno})")
            continue
        found = check_case(case, where, docs)
        problems.extend(found)
        if found or not isinstance(case, dict):
            continue
        where = f"{where} ({case['id']})"
        if case["id"] in seen:
            problems.append(f"{where}: duplicate id, first used on line {seen[case['id']]}")
        seen.setdefault(case["id"], lineno)
        for answer in case["answers"]:
            if len(answer.strip()) < MIN_GOLD_CHARS:
                warnings.append(f"{where}: gold answer {answer!r} is very short")
        run = copied_run(case["question"], doc_words, COPIED_WORDS)
        if run:
            warnings.append(f"{where}: question copies document text: {run!r}")
        cases.append(case)

    for message in warnings:
        print(f"warning: {message}", file=sys.stderr)
    if problems:
        for message in problems:
            print(f"error: {message}", file=sys.stderr)
        print(f"FAILED: {len(problems)} problem(s) in {args.cases}", file=sys.stderr)
        return 1

    print(f"{len(cases)} cases in {args.cases}, "
          f"checked against {len(docs)} document(s) in {args.docs}")
    for title, key, order in (("kind", "kind", KINDS), ("category", "category", CATEGORIES)):
        counts = Counter(case[key] for case in cases)
        print(f"by {title}:")
        for name in order:
            print(f"  {name:<14}{counts.get(name, 0):>4}")
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
