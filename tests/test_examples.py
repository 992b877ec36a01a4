"""Training windows from a SQuAD-format file written here: positives hold the answer at its
offsets, negatives never hold it."""

from __future__ import annotations

import json
import random
from pathlib import Path

from rag.reader.examples import Rewrites, squad2_examples, squad_examples

PARAGRAPHS = [
    "The Hoover Dam was completed in 1936. It was built on the Colorado River. "
    "About 21,000 workers built it. It was named after Herbert Hoover.",
    "Lake Mead formed behind the dam. The lake supplies water to Las Vegas. "
    "Boats on the lake carry tourists.",
    "The dam's power plant has 17 turbines. It serves Nevada, Arizona and California.",
]
QUESTIONS = [
    (0, "When was the dam completed?", "1936"),
    (0, "Which river is the dam on?", "Colorado River"),
    (1, "Which city gets water from the lake?", "Las Vegas"),
    (2, "How many turbines does the plant have?", "17"),
]


def _squad(tmp_path: Path) -> Path:
    paragraphs = [{"context": c, "qas": []} for c in PARAGRAPHS]
    for i, (p, question, answer) in enumerate(QUESTIONS):
        paragraphs[p]["qas"].append({  # type: ignore[attr-defined]
            "id": str(i), "question": question,
            "answers": [{"text": answer, "answer_start": PARAGRAPHS[p].index(answer)}]})
    path = tmp_path / "train.json"
    path.write_text(json.dumps({"data": [{"title": "Dam", "paragraphs": paragraphs}]}))
    return path


def test_positives_hold_the_answer_at_their_offsets(tmp_path: Path) -> None:
    examples = squad_examples(_squad(tmp_path), seed=1, negatives=1.0)
    positives = [e for e in examples if e.start is not None]
    assert sorted(e.question for e in positives) == sorted(q for _, q, _ in QUESTIONS)
    for e in positives:
        answer = next(a for _, q, a in QUESTIONS if q == e.question)
        assert e.window[e.start : e.end] == answer
        assert any(e.window in p for p in PARAGRAPHS)  # whole sentences of one paragraph


def test_negatives_never_hold_the_answer(tmp_path: Path) -> None:
    examples = squad_examples(_squad(tmp_path), seed=1, negatives=1.0)
    negatives = [e for e in examples if e.start is None]
    # The turbines paragraph may offer none: its other sentence can be read only beside the
    # answer's own.
    assert len(negatives) in (len(QUESTIONS) - 1, len(QUESTIONS))
    for e in negatives:
        answer = next(a for _, q, a in QUESTIONS if q == e.question)
        assert answer.lower() not in e.window.lower()
        assert e.article == "Dam"


def test_same_seed_same_windows(tmp_path: Path) -> None:
    path = _squad(tmp_path)
    assert squad_examples(path, seed=3) == squad_examples(path, seed=3)


def test_rewrites_keep_the_window_and_label_it_unanswerable(tmp_path: Path) -> None:
    examples = squad_examples(_squad(tmp_path), seed=1, negatives=0.0,
                              rewrites=Rewrites(swaps=1.0, words=1.0, negations=1.0))
    positives = {e.question: e.window for e in examples if e.start is not None}
    rewritten = {e.question: e.window for e in examples
                 if e.start is None and e.question not in positives}
    # Negation contracts the auxiliary; the window is the positive's own.
    assert rewritten["When wasn't the dam completed?"] == positives["When was the dam completed?"]
    assert "How many turbines doesn't the plant have?" in rewritten
    # A word swap replaces one content word the window holds with one of the article it lacks.
    swapped = [q for q in rewritten if "n't" not in q]
    assert swapped and all(positives.get(q) is None for q in swapped)


def test_questions_to_skip_give_no_windows(tmp_path: Path) -> None:
    skip = frozenset({"When was the dam completed?", "Which river is the dam on?"})
    examples = squad_examples(_squad(tmp_path), seed=1, negatives=1.0, skip=skip)
    assert {e.question for e in examples} == {q for _, q, _ in QUESTIONS} - skip


def _squad2(tmp_path: Path) -> Path:
    """Two articles in SQuAD 2.0's shape: answerable questions, unanswerable ones with a
    plausible answer, and one without."""
    dam = PARAGRAPHS[0]
    lake = PARAGRAPHS[1]
    articles = [
        {"title": "Dam", "paragraphs": [{"context": dam, "qas": [
            {"id": "a", "question": "When was the dam completed?", "is_impossible": False,
             "answers": [{"text": "1936", "answer_start": dam.index("1936")}]},
            {"id": "b", "question": "When was the dam demolished?", "is_impossible": True,
             "answers": [], "plausible_answers": [
                 {"text": "Herbert Hoover", "answer_start": dam.index("Herbert Hoover")}]},
            {"id": "c", "question": "Who painted the dam?", "is_impossible": True,
             "answers": []},
        ]}]},
        {"title": "Lake", "paragraphs": [{"context": lake, "qas": [
            {"id": "d", "question": "Which city gets water from the lake?",
             "is_impossible": False,
             "answers": [{"text": "Las Vegas", "answer_start": lake.index("Las Vegas")}]},
        ]}]},
    ]
    path = tmp_path / "v2.json"
    path.write_text(json.dumps({"version": "v2.0", "data": articles}))
    return path


def test_squad2_unanswerable_questions_read_their_plausible_answers_window(
        tmp_path: Path) -> None:
    examples = squad2_examples(_squad2(tmp_path), random.Random(1))
    by_question = {e.question: e for e in examples}
    # No plausible answer, no window to put the question to.
    assert set(by_question) == {"When was the dam completed?", "When was the dam demolished?",
                                "Which city gets water from the lake?"}
    answered = by_question["When was the dam completed?"]
    assert answered.window[answered.start : answered.end] == "1936"
    unanswerable = by_question["When was the dam demolished?"]
    assert unanswerable.start is None and unanswerable.end is None
    assert "Herbert Hoover" in unanswerable.window and unanswerable.article == "Dam"


def test_squad2_articles_held_out_give_no_windows(tmp_path: Path) -> None:
    examples = squad2_examples(_squad2(tmp_path), random.Random(1), held_out={"Dam"})
    assert [(e.question, e.article) for e in examples] == [
        ("Which city gets water from the lake?", "Lake")]
