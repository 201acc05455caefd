"""The search contract in plain Python: parsing, pg_trgm similarity, candidate keys, ranking."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oberih.identifiers import make_document_number, make_rnokpp, make_unzr
from oberih.persons.search._core import (
    MAX_COMBINATIONS,
    Combination,
    DictionaryEntry,
    IdentifierQuery,
    InvalidSearch,
    NameQuery,
    NameWord,
    PersonRow,
    best_matches,
    check_limit,
    is_candidate,
    make_filters,
    name_similarity,
    parse_query,
    rank_combinations,
    rank_hits,
    retrieval_threshold,
    trigram_similarity,
    trigrams,
)

LETTERS = "абвгґдеєжзиіїйклмнопрстуфхцчшщьюя"


# --- Parsing -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "kind", "value"),
    [
        (make_rnokpp(dt.date(1990, 1, 1), 7, "male"), "rnokpp", None),
        (make_unzr(dt.date(1990, 1, 1), 77), "unzr", None),
        (make_unzr(dt.date(1990, 1, 1), 77).replace("-", ""), "unzr", "hyphenated"),
        (make_document_number("id_card", 42), "id_card", None),
        ("кв 123456", "passport_booklet", "КВ123456"),
        ("FT 123456", "foreign_passport", "FT123456"),
    ],
)
def test_identifiers_are_recognised_by_their_shape(
    query: str, kind: str, value: str | None
) -> None:
    parsed = parse_query(query)
    assert isinstance(parsed, IdentifierQuery)
    assert parsed.kind == kind
    if value == "hyphenated":
        assert parsed.value == f"{query[:8]}-{query[8:]}"
    else:
        assert parsed.value == (value or query)


def test_name_words_get_their_keys_in_the_script_typed() -> None:
    assert parse_query(" Шевченко,  Тарас ") == NameQuery(
        words=(NameWord("шевченко", latin=False), NameWord("тарас", latin=False))
    )
    assert parse_query("Shevchenko Taras") == NameQuery(
        words=(NameWord("shevchenko", latin=True), NameWord("taras", latin=True))
    )
    assert parse_query("Мар'яна") == NameQuery(words=(NameWord("маряна", latin=False),))


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("", "empty"),
        ("  ", "empty"),
        ("Шевченко Т.", "2 letters"),
        ("x" * 201, "longer than 200"),
        ("А Б В Г", "2 letters"),
        ("Аа Бб Вв Гг", "more than 3 names"),
        ("1234567890", "not a valid RNOKPP"),
        ("--", "2 letters"),
        (",,", "no name"),
    ],
)
def test_unusable_queries_say_why_without_repeating_the_query(query: str, reason: str) -> None:
    with pytest.raises(InvalidSearch, match=reason) as caught:
        parse_query(query)
    assert query.strip() == "" or query not in str(caught.value)


def test_limit_and_filters_are_checked() -> None:
    assert check_limit(1) == 1
    assert check_limit(100) == 100
    for bad in (0, 101, -5):
        with pytest.raises(InvalidSearch):
            check_limit(bad)
    with pytest.raises(InvalidSearch):
        make_filters(birth_year=0, region=None, office_codes=None, include_deceased=True)
    filters = make_filters(
        birth_year=1990, region="UA80", office_codes=["B", "A"], include_deceased=False
    )
    assert filters.office_codes == frozenset({"A", "B"})
    assert (filters.born_from, filters.born_until) == (dt.date(1990, 1, 1), dt.date(1990, 12, 31))
    empty = make_filters(birth_year=None, region=None, office_codes=(), include_deceased=True)
    assert empty.excludes_everyone
    with pytest.raises(TypeError):
        make_filters(
            birth_year=None, region=None, office_codes="TCC-UA46-01", include_deceased=True
        )


# --- pg_trgm similarity --------------------------------------------------------------------------


def test_trigrams_pad_each_word_like_pg_trgm() -> None:
    # SELECT show_trgm('Ab-c') gives {"  a","  c"," ab"," c ","ab "}.
    assert trigrams("Ab-c") == {"  a", " ab", "ab ", "  c", " c "}
    assert trigrams("") == frozenset()


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        # Values printed by PostgreSQL 15's similarity() for the same pairs.
        ("шевченко", "шевчинко", 0.5),
        ("іван", "іавн", 1 / 9),
        ("word", "word", 1.0),
        ("word", "", 0.0),
        ("іваненко-петренко", "петренко", 0.6),
    ],
)
def test_trigram_similarity_matches_pg_trgm(left: str, right: str, expected: float) -> None:
    assert trigram_similarity(left, right) == pytest.approx(expected)


def test_name_similarity_is_fair_to_short_names() -> None:
    assert name_similarity("іван", "іван") == 1.0
    assert name_similarity("іван", "іавн") == 0.75  # one swap in four letters
    assert name_similarity("шевченко", "шевчнко") > name_similarity("шевченко", "шевчук")


def _single_typos(word: str) -> set[str]:
    typos = set()
    for i in range(len(word)):
        typos.add(word[:i] + word[i + 1 :])
        typos.update(word[:i] + c + word[i + 1 :] for c in "аоиь")
    for i in range(len(word) + 1):
        typos.update(word[:i] + c + word[i:] for c in "аоиь")
    for i in range(len(word) - 1):
        typos.add(word[:i] + word[i + 1] + word[i] + word[i + 2 :])
    typos.discard(word)
    return {typo for typo in typos if len(typo) >= 2}


@given(st.text(alphabet=LETTERS, min_size=5, max_size=16))
def test_one_typo_never_loses_the_intended_key(word: str) -> None:
    for typo in _single_typos(word):
        assert is_candidate(typo, word), (typo, word)


def test_the_threshold_rises_with_length_and_stays_bounded() -> None:
    thresholds = [retrieval_threshold("ж" * n) for n in range(1, 30)]
    assert thresholds == sorted(thresholds)
    assert min(thresholds) == 0.1
    assert max(thresholds) == 0.4


def test_keys_sharing_nothing_but_a_last_letter_are_no_candidates() -> None:
    assert is_candidate("іван", "іавн")  # same first letter
    assert is_candidate("петро", "петрович")  # shared trigrams inside the word
    assert not is_candidate("шевченко", "коваленко")  # shares "нко", too dissimilar
    assert not is_candidate("ан", "іван")  # nothing to find it by


# --- Candidate keys and combinations -----------------------------------------------------------


def entry(part: str, key: str, frequency: int = 1, latin_key: str = "") -> DictionaryEntry:
    return DictionaryEntry(part=part, key=key, latin_key=latin_key or key, frequency=frequency)


def test_best_matches_rank_by_similarity_then_frequency_then_key() -> None:
    word = NameWord("шевчнко", latin=False)
    matches = best_matches(
        word,
        [
            entry("surname", "шевченко", 9),
            entry("surname", "шевчинко", 5),
            entry("surname", "шевчук", 100),
            entry("surname", "коваленко", 100),
            entry("given", "шевченко", 1),
            entry("surname", "шевченко", 9),  # a duplicate from another retrieval path
        ],
    )
    # One letter missing from both: the more frequent name first.
    assert [m.key for m in matches["surname"]] == ["шевченко", "шевчинко", "шевчук"]
    assert matches["surname"][0].similarity == matches["given"][0].similarity
    assert all(m.similarity >= 0.5 for m in matches["surname"])


def test_latin_words_match_the_latin_keys() -> None:
    matches = best_matches(
        NameWord("shevchneko", latin=True),
        [entry("surname", "шевченко", latin_key="shevchenko")],
    )
    assert [m.key for m in matches["surname"]] == ["шевченко"]


def _matches(*pairs: tuple[str, str, float]) -> dict[str, tuple]:  # type: ignore[type-arg]
    from oberih.persons.search._core import KeyMatch

    by_part: dict[str, list[KeyMatch]] = {}
    for part, key, similarity in pairs:
        by_part.setdefault(part, []).append(KeyMatch(key, similarity, 1))
    return {part: tuple(found) for part, found in by_part.items()}


def test_combinations_prefer_the_official_order_then_the_spoken_one() -> None:
    first = _matches(("surname", "тарас", 1.0), ("given", "тарас", 1.0))
    second = _matches(("surname", "шевченко", 1.0), ("given", "шевченко", 1.0))
    ranked = rank_combinations([first, second])
    assert ranked[0] == Combination(score=1.0, surname_key="тарас", given_name_key="шевченко")
    assert ranked[1] == Combination(score=0.99, surname_key="шевченко", given_name_key="тарас")


def test_combinations_below_the_minimum_score_are_dropped_and_capped() -> None:
    weak = _matches(("surname", "а", 0.5))
    assert rank_combinations([weak]) == [Combination(score=0.5, surname_key="а")]
    many = [
        _matches(*[("surname", f"с{i}", 1.0) for i in range(40)]),
        _matches(*[("given", f"г{i}", 1.0) for i in range(40)]),
    ]
    ranked = rank_combinations(many)
    assert len(ranked) == MAX_COMBINATIONS
    assert ranked == sorted(ranked, key=lambda c: (-c.score, c.surname_key, c.given_name_key))


def _row(
    surname_key: str,
    given: str | None,
    patronymic: str | None,
    born: dt.date | None,
    number: int,
) -> PersonRow:
    return PersonRow(
        person_id=uuid.UUID(int=number),
        surname=surname_key.title(),
        given_name=given,
        patronymic=patronymic,
        birth_date=born,
        region=None,
        office_code=None,
        surname_key=surname_key,
        given_name_key=given,
        patronymic_key=patronymic,
    )


def test_hits_come_by_score_then_keys_then_birth_date_then_id_nulls_last() -> None:
    combinations = [
        Combination(score=1.0, surname_key="б", given_name_key="в"),
        Combination(score=0.9, surname_key="а", given_name_key="в"),
    ]
    rows = [
        _row("а", "в", None, None, 1),
        _row("б", "в", None, dt.date(1990, 1, 1), 2),
        _row("б", "в", "іванович", None, 3),
        _row("б", "в", "іванович", dt.date(1980, 1, 1), 5),
        _row("б", "в", "іванович", dt.date(1980, 1, 1), 4),
        _row("я", "в", None, None, 6),  # of no combination: never a hit
    ]
    hits = rank_hits(rows, combinations, limit=10)
    assert [hit.person_id.int for hit in hits] == [4, 5, 3, 2, 1]
    assert [hit.score for hit in hits] == [1.0, 1.0, 1.0, 1.0, 0.9]
    assert rank_hits(rows, combinations, limit=2) == hits[:2]
    assert rank_hits(rows, [], limit=2) == []
