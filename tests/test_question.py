"""Question parsing: the expected answer kind, what is counted and the asking preposition."""

from __future__ import annotations

from rag.question import Expect, parse_question


def test_the_preposition_before_the_question_word_is_kept() -> None:
    question = parse_question("Against whom does the group want Muslims united?")
    assert question.expect is Expect.NAME
    assert question.preposition == "against"


def test_prepositions_that_precede_most_answers_are_not_cues() -> None:
    assert parse_question("In what year was the dam completed?").preposition == ""
    assert parse_question("Who built the dam?").preposition == ""


def test_how_many_knows_what_it_counts() -> None:
    assert parse_question("How many civilians were killed in the attack?").counted == "civilians"


def test_how_many_of_them_is_one_asking_clause() -> None:
    question = parse_question("How many of them were soldiers?")
    assert question.counting
    assert "soldier" in question.focus
    assert not parse_question("When did it happen?").counting


def test_a_nation_or_country_question_expects_a_country() -> None:
    assert parse_question("In which nation is the town?").expect is Expect.COUNTRY
    assert parse_question("Which countries did the victims come from?").expect is Expect.COUNTRY
    assert parse_question("Which city was struck?").expect is Expect.PLACE


def test_the_names_of_asks_for_names() -> None:
    assert parse_question("What were the names of the bombers?").expect is Expect.NAME
