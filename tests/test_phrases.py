"""Typed phrases: names with particles, countries, money without a currency."""

from __future__ import annotations

from rag.phrases import find_phrases
from rag.question import Expect


def _texts(text: str, expect: Expect) -> list[str]:
    return [text[p.start : p.end] for p in find_phrases(text, expect)]


def test_a_hyphenated_particle_stays_inside_the_name() -> None:
    text = "Fighters went to join Abu Musab al-Zarqawi in 2005."
    assert "Abu Musab al-Zarqawi" in _texts(text, Expect.NAME)


def test_money_falls_back_to_bare_amounts_not_counts_or_shares() -> None:
    assert _texts("Its output was 191.766 billion in 2010.", Expect.MONEY) == ["191.766 billion"]
    assert _texts("The seven hostages were released.", Expect.MONEY) == []
    assert _texts("It reaches only 10 percent of adults.", Expect.MONEY) == []


def test_an_elided_particle_stays_inside_the_name() -> None:
    text = "The resort lies east of Abidjan in Côte d’Ivoire."
    assert _texts(text, Expect.PLACE)[-1] == "Côte d’Ivoire"


def test_a_country_question_prefers_countries_and_else_takes_any_place() -> None:
    text = "Gunmen struck Grand-Bassam, a town east of Abidjan in Côte d’Ivoire."
    assert _texts(text, Expect.COUNTRY) == ["Côte d’Ivoire"]
    assert _texts("Gunmen struck Grand-Bassam.", Expect.COUNTRY) == ["Grand-Bassam"]
    victims = "Victims came from France, Germany, Burkina Faso, and Cameroon."
    assert [victims[p.start : p.end] for p in find_phrases(victims, Expect.COUNTRY, True)] == [
        "France, Germany, Burkina Faso, and Cameroon"]
