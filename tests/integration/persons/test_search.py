"""Person search on both engines: identifiers, typo-tolerant names, filters, one ordering contract."""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, exists, false, select, text
from sqlalchemy.orm import Session

from oberih.db.engine import make_engine, make_session_factory
from oberih.identifiers import make_document_number, make_rnokpp, make_unzr
from oberih.persons.bench_search import run_search_benchmark, typo
from oberih.persons.bulk import load_people
from oberih.persons.facts import Fact, FactKind
from oberih.persons.models import FactRow, NameKeyRow, PersonStateRow
from oberih.persons.search import InvalidSearch, SearchHit, search_persons, trigram_similarity
from oberih.persons.search._core import (
    DictionaryEntry,
    NameQuery,
    PersonRow,
    best_matches,
    combination_keys,
    hit_order,
    parse_query,
    rank_combinations,
    to_hit,
)
from oberih.persons.services import append_facts, create_person
from tests.conftest import POSTGRES_ADMIN_URL
from tests.factories import address_payload, identity_payload, make_fact, new_fact, utc

NOW = utc(2026, 1, 10)


@dataclass
class Someone:
    """A synthetic person for the bulk loader (the PersonRecord protocol)."""

    person_id: uuid.UUID
    created_at: dt.datetime
    facts: list[Fact] = field(default_factory=list)


def someone(
    surname: str,
    given_name: str,
    patronymic: str | None = None,
    *,
    birth_date: dt.date = dt.date(1990, 3, 15),
    region: str = "UA46",
    identifiers: Sequence[tuple[str, str]] = (),
    died: dt.date | None = None,
    person_id: uuid.UUID | None = None,
) -> Someone:
    person_id = person_id or uuid.uuid4()
    identity = identity_payload(surname, given_name, "", birth_date.isoformat())
    if patronymic is None:
        del identity["patronymic"]
    else:
        identity["patronymic"] = patronymic
    payloads = [
        (FactKind.identity, identity),
        (FactKind.address, address_payload("Lviv", region)),
        *(
            (FactKind.identifier, {"identifier_kind": kind, "value": value})
            for kind, value in identifiers
        ),
    ]
    if died is not None:
        payloads.append((FactKind.death, {"date_of_death": died.isoformat()}))
    facts = [
        make_fact(kind, payload, person_id=person_id, seq=seq, recorded_at=NOW)
        for seq, (kind, payload) in enumerate(payloads, start=1)
    ]
    return Someone(person_id=person_id, created_at=NOW, facts=facts)


RNOKPP = make_rnokpp(dt.date(1990, 3, 15), 1234, "male")
UNZR = make_unzr(dt.date(1990, 3, 15), 4321)
ID_CARD = make_document_number("id_card", 123456789)


def famous_people() -> list[Someone]:
    return [
        someone(
            "Шевченко",
            "Тарас",
            "Григорович",
            birth_date=dt.date(1984, 3, 9),
            region="UA80",
            identifiers=[("rnokpp", RNOKPP), ("unzr", UNZR), ("id_card", ID_CARD)],
        ),
        someone("Шевчук", "Тарас", "Іванович", birth_date=dt.date(1985, 1, 2)),
        someone("Шевченко", "Олександр", "Петрович", birth_date=dt.date(1979, 5, 1)),
        someone("Коваленко", "Іван", "Петрович", birth_date=dt.date(1990, 7, 7), region="UA12"),
        someone("Коваленко", "Іван", "Петрович", birth_date=dt.date(2001, 7, 7), region="UA46"),
        someone("Іваненко-Петренко", "Мар'яна", "Юріївна", birth_date=dt.date(1995, 2, 2)),
        someone("Smith", "John", None, birth_date=dt.date(1970, 1, 1)),
        someone("Бондар", "Юрій", "Олегович", died=dt.date(2024, 5, 5)),
        someone("Ян", "Ян", "Янович", birth_date=dt.date(1988, 8, 8)),
    ]


def load(engine: Engine, people: Sequence[Someone]) -> None:
    load_people(engine, people)


def names(hits: Sequence[SearchHit]) -> list[tuple[str | None, str | None, str | None]]:
    return [(hit.surname, hit.given_name, hit.patronymic) for hit in hits]


@pytest.fixture
def famous(engine: Engine, session: Session) -> Session:
    load(engine, famous_people())
    return session


# --- Identifiers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "kind"),
    [(RNOKPP, "rnokpp"), (UNZR, "unzr"), (UNZR.replace("-", ""), "unzr"), (ID_CARD, "id_card")],
)
def test_an_identifier_finds_its_person_exactly(famous: Session, query: str, kind: str) -> None:
    hits = search_persons(famous, query=f"  {query} ")
    assert names(hits) == [("Шевченко", "Тарас", "Григорович")]
    assert hits[0].matched_by == kind
    assert hits[0].score == 1.0
    assert hits[0].region == "UA80"


def test_an_invalidated_identifier_finds_nobody(engine: Engine, session: Session) -> None:
    person = someone("Мельник", "Андрій", "Іванович", identifiers=[("rnokpp", RNOKPP)])
    person.facts.append(
        make_fact(
            FactKind.identifier,
            {"identifier_kind": "rnokpp", "value": RNOKPP, "status": "invalidated"},
            person_id=person.person_id,
            seq=len(person.facts) + 1,
            recorded_at=utc(2026, 1, 11),
        )
    )
    load(engine, [person])
    assert search_persons(session, query=RNOKPP) == []


def test_a_malformed_identifier_is_an_invalid_search(famous: Session) -> None:
    bad_check_digit = RNOKPP[:9] + str((int(RNOKPP[9]) + 1) % 10)
    with pytest.raises(InvalidSearch) as caught:
        search_persons(famous, query=bad_check_digit)
    assert bad_check_digit not in str(caught.value)


# --- Names ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "Шевченко Тарас",
        "шевченко тарас григорович",
        "Шевченко Тарас",
        "Шевчнко Тарас",  # deletion
        "Шевченко Трас",  # deletion in a short name
        "Шевчекно Тарас",  # swapped neighbours
        "Шевщенко Тарас Григорович",  # substitution
        "Тарас Шевченко",  # spoken order
        "Тарас Григорович Шевченко",
        "Shevchenko Taras",  # KMU-55 Latin
        "Shevchneko Taras Hryhorovych",
    ],
)
def test_a_misspelled_name_finds_the_person_first(famous: Session, query: str) -> None:
    hits = search_persons(famous, query=query)
    assert names(hits)[0] == ("Шевченко", "Тарас", "Григорович")
    assert hits[0].matched_by == "name"
    assert 0.5 <= hits[0].score <= 1.0
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)


def test_an_exact_name_scores_one(famous: Session) -> None:
    hits = search_persons(famous, query="Шевченко Тарас Григорович")
    assert hits[0].score == 1.0
    assert all(hit.score < 1.0 for hit in hits[1:])


def test_double_surnames_apostrophes_and_short_names_are_found(famous: Session) -> None:
    assert names(search_persons(famous, query="Іваненко-Петренко Марʼяна"))[0][0] == (
        "Іваненко-Петренко"
    )
    assert names(search_persons(famous, query="Іваненко-Петренко Марьяна"))[0][1] == "Мар'яна"
    assert names(search_persons(famous, query="Ян Ян"))[0] == ("Ян", "Ян", "Янович")
    assert names(search_persons(famous, query="Smith John")) == [("Smith", "John", None)]
    assert names(search_persons(famous, query="Smiht Jonh")) == [("Smith", "John", None)]


def test_a_surname_alone_finds_its_bearers(famous: Session) -> None:
    hits = search_persons(famous, query="Коваленко")
    assert names(hits)[:2] == [("Коваленко", "Іван", "Петрович")] * 2
    # Same name: earlier birth date first.
    assert [hit.birth_date for hit in hits[:2]] == [dt.date(1990, 7, 7), dt.date(2001, 7, 7)]


def test_nothing_alike_finds_nobody(famous: Session) -> None:
    assert search_persons(famous, query="Зюзюкін Авксентій") == []


def test_birth_year_and_region_narrow_the_search(famous: Session) -> None:
    by_year = search_persons(famous, query="Коваленко Іван", birth_year=2001)
    assert [hit.birth_date for hit in by_year] == [dt.date(2001, 7, 7)]
    by_region = search_persons(famous, query="Коваленко Іван", region="UA12")
    assert [hit.region for hit in by_region] == ["UA12"]
    assert search_persons(famous, query="Коваленко Іван", birth_year=1950) == []


def test_office_codes_hide_everyone_outside_the_callers_area(famous: Session) -> None:
    lviv_only = {"TCC-UA46-01"}
    assert search_persons(famous, query=RNOKPP, office_codes=lviv_only) == []
    hits = search_persons(famous, query="Коваленко Іван", office_codes=lviv_only)
    assert [hit.office_code for hit in hits] == ["TCC-UA46-01"]
    assert all(
        hit.office_code == "TCC-UA46-01"
        for hit in search_persons(famous, query="Шевченко Тарас", office_codes=lviv_only)
    )
    assert search_persons(famous, query="Коваленко Іван", office_codes=[]) == []
    assert len(search_persons(famous, query="Коваленко Іван", office_codes=None)) == 2


def test_any_sql_condition_on_the_projection_scopes_the_search(famous: Session) -> None:
    in_lviv_region = PersonStateRow.office_code.like("TCC-UA46-%")
    assert search_persons(famous, query=RNOKPP, condition=in_lviv_region) == []
    hits = search_persons(famous, query="Коваленко Іван", condition=in_lviv_region)
    assert [hit.region for hit in hits] == ["UA46"]
    # A correlated subquery, as the employer scope uses: persons with a recorded death.
    has_died = exists(
        select(FactRow.id).where(
            FactRow.person_id == PersonStateRow.person_id, FactRow.kind == FactKind.death
        )
    )
    assert names(search_persons(famous, query="Бондар Юрій", condition=has_died)) == [
        ("Бондар", "Юрій", "Олегович")
    ]
    assert search_persons(famous, query="Коваленко Іван", condition=has_died) == []
    assert search_persons(famous, query="Бондар Юрій", condition=false()) == []


def test_the_deceased_can_be_left_out(famous: Session) -> None:
    assert names(search_persons(famous, query="Бондар Юрій")) == [("Бондар", "Юрій", "Олегович")]
    assert search_persons(famous, query="Бондар Юрій", include_deceased=False) == []


@pytest.mark.parametrize(
    "query",
    ["", "   ", "Ш", "Шевченко Т", "a" * 201, "Шевченко Тарас Григорович Київ", "12345", "!!"],
)
def test_unusable_queries_are_invalid_searches(famous: Session, query: str) -> None:
    with pytest.raises(InvalidSearch):
        search_persons(famous, query=query)


@pytest.mark.parametrize("limit", [0, 101])
def test_the_limit_is_bounded(famous: Session, limit: int) -> None:
    with pytest.raises(InvalidSearch):
        search_persons(famous, query="Шевченко", limit=limit)


def test_a_very_common_name_gives_limit_hits_in_a_stable_order(
    engine: Engine, session: Session
) -> None:
    rng = random.Random(7)
    people = [
        someone(
            "Мельник",
            "Олександр",
            rng.choice(["Іванович", "Петрович", None]),
            birth_date=dt.date(1960, 1, 1) + dt.timedelta(days=rng.randrange(15000)),
        )
        for _ in range(150)
    ]
    load(engine, people)
    hits = search_persons(session, query="Мельник Олександр", limit=25)
    assert len(hits) == 25
    rows = {p.person_id: p for p in people}
    assert all(hit.person_id in rows for hit in hits)
    expected_order = sorted(
        hits, key=lambda h: (h.patronymic is None, h.patronymic or "", h.birth_date, h.person_id)
    )
    assert hits == expected_order
    # The first page is the beginning of the full order, whatever the limit.
    assert search_persons(session, query="Мельник Олександр", limit=10) == hits[:10]


def test_persons_registered_one_by_one_are_searchable(session: Session) -> None:
    created = create_person(
        session,
        facts=[new_fact(FactKind.identity, identity_payload("Ткаченко", "Богдан", "Ілліч"))],
        now=NOW,
    )
    append_facts(
        session,
        person_id=created.person_id,
        facts=[new_fact(FactKind.identity, identity_payload("Ткачук", "Богдан", "Ілліч"))],
        now=utc(2026, 1, 11),
    )
    session.commit()
    hits = search_persons(session, query="Ткачюк Богдан")
    assert [hit.person_id for hit in hits] == [created.person_id]
    # The old surname is gone from the projection: only a fuzzy match is left.
    assert [hit.score < 1.0 for hit in search_persons(session, query="Ткаченко Богдан")] == [True]


# --- One ordering contract on both engines ------------------------------------------------------

SURNAMES = [
    "Шевченко", "Шевчук", "Шевчик", "Бондаренко", "Бондар", "Коваленко", "Коваль", "Ковальчук",
    "Ткаченко", "Ткачук", "Мельник", "Мельниченко", "Кравченко", "Кравчук", "Олійник",
    "Олійченко", "Лисенко", "Лисенко-Бойко", "Іваненко", "Іванченко", "Ян", "Ющенко", "Smith",
]  # fmt: skip
GIVEN_NAMES = [
    "Олександр", "Олексій", "Олесь", "Іван", "Івась", "Петро", "Павло", "Тарас", "Юрій", "Юліан",
    "Ян", "Андрій", "Мар'яна", "Марина", "Ірина", "Ірена", "Ольга", "John",
]  # fmt: skip
PATRONYMICS = ["Іванович", "Іванівна", "Петрович", "Петрівна", "Олегович", "Юрійович", None]
PARITY_QUERIES = [
    "Шевченко",
    "Шевчнко Олксандр",
    "Олександр Шевченко",
    "Коваленко Іван Петрович",
    "Ковальченко Іван",
    "Іван Петрович Коваль",
    "Лисенко Ольга",
    "Лисенко-Бойко Ірина",
    "Ян Ян",
    "Ткачук Юрій",
    "Melnyk Oleksandr",
    "Shevchenko Taras",
    "Кравчкук Петро",
    "Олійник Марʼяна Петрівна",
    "Smith John",
]


def parity_people(count: int = 400, seed: int = 3) -> list[Someone]:
    rng = random.Random(seed)
    return [
        someone(
            rng.choice(SURNAMES),
            rng.choice(GIVEN_NAMES),
            rng.choice(PATRONYMICS),
            birth_date=dt.date(1960, 1, 1) + dt.timedelta(days=rng.randrange(4000)),
            region=rng.choice(["UA46", "UA80", "UA12"]),
            person_id=uuid.UUID(int=rng.getrandbits(128)),
            died=dt.date(2025, 1, 1) if rng.random() < 0.05 else None,
        )
        for _ in range(count)
    ]


def reference_search(session: Session, query: str, limit: int = 10) -> list[SearchHit]:
    """The contract computed by brute force: the whole dictionary, every person, no engine SQL."""
    parsed = parse_query(query)
    assert isinstance(parsed, NameQuery)
    dictionary = [
        DictionaryEntry(part=e.part, key=e.key, latin_key=e.latin_key, frequency=e.frequency)
        for e in session.scalars(select(NameKeyRow))
    ]
    combinations = rank_combinations([best_matches(w, dictionary) for w in parsed.words])
    if not combinations:
        return []
    scores = {c.keys: c.score for c in combinations}
    shape = combinations[0].shape
    scored = []
    for state in session.scalars(select(PersonStateRow)):
        row = PersonRow(
            person_id=state.person_id,
            surname=state.surname,
            given_name=state.given_name,
            patronymic=state.patronymic,
            birth_date=state.birth_date,
            region=state.region,
            office_code=state.office_code,
            surname_key=state.surname_key,
            given_name_key=state.given_name_key,
            patronymic_key=state.patronymic_key,
        )
        score = scores.get(combination_keys(row, shape))
        if score is not None:
            scored.append((hit_order(score, row), to_hit(row, score=score, matched_by="name")))
    return [hit for _, hit in sorted(scored, key=lambda item: item[0])[:limit]]


@pytest.fixture
def crowd(engine: Engine, session: Session) -> Session:
    load(engine, parity_people())
    return session


@pytest.mark.parametrize("query", PARITY_QUERIES)
def test_results_equal_the_brute_force_reference(crowd: Session, query: str) -> None:
    for limit in (3, 10, 40):
        assert search_persons(crowd, query=query, limit=limit) == reference_search(
            crowd, query, limit
        )


def test_python_similarity_is_pg_trgm_similarity(database_url: str, session: Session) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("pg_trgm is PostgreSQL's")
    words = [w for name in SURNAMES + GIVEN_NAMES for w in [name.lower(), name.lower()[::-1]]]
    pairs = [(a, b) for a in words[:20] for b in words]
    for a, b in pairs:
        expected = session.execute(text("SELECT similarity(:a, :b)"), {"a": a, "b": b}).scalar()
        assert trigram_similarity(a, b) == pytest.approx(expected, abs=1e-6), (a, b)


@pytest.fixture
def both_engines(
    tmp_path: Path, sqlite_template: Path, postgres_template: str
) -> Iterator[tuple[Session, Session]]:
    """The same persons loaded into a SQLite and a PostgreSQL database."""
    sqlite_path = tmp_path / "parity.db"
    sqlite_path.write_bytes(sqlite_template.read_bytes())
    name = f"oberih_search_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{postgres_template}"')
    engines = [
        make_engine(f"sqlite:///{sqlite_path}"),
        make_engine(POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"),
    ]
    try:
        for engine in engines:
            load(engine, parity_people(count=600, seed=11))
        with (
            make_session_factory(engines[0])() as lite,
            make_session_factory(engines[1])() as postgres,
        ):
            yield lite, postgres
    finally:
        for engine in engines:
            engine.dispose()
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.postgres
def test_both_engines_give_the_same_hits_in_the_same_order(
    both_engines: tuple[Session, Session],
) -> None:
    lite, postgres = both_engines
    for query in PARITY_QUERIES:
        for options in ({}, {"birth_year": 1965}, {"region": "UA80", "limit": 30}):
            on_sqlite = search_persons(lite, query=query, **options)  # type: ignore[arg-type]
            on_postgres = search_persons(postgres, query=query, **options)  # type: ignore[arg-type]
            assert on_sqlite == on_postgres, (query, options)
    assert any(len(search_persons(lite, query=q)) > 1 for q in PARITY_QUERIES)


# --- Benchmark ----------------------------------------------------------------------------------


def tiny_population(persons: int, seed: int) -> list[Someone]:
    """Stands in for the population generator: only names, birth dates and regions matter."""
    return parity_people(count=persons, seed=seed)


def test_the_benchmark_reports_latency_recall_and_the_baseline(database_url: str) -> None:
    report = run_search_benchmark(
        persons=300, database_url=database_url, queries=30, population=tiny_population
    )
    assert report["persons"] == 300
    assert report["queries"] == 30
    assert 0 < report["p50_ms"] <= report["p95_ms"] <= report["max_ms"]
    assert report["recall_at_10"] >= 0.5
    assert 0 <= report["unambiguous_queries"] <= 30
    assert report["recall_at_10_unambiguous"] is None or report["recall_at_10_unambiguous"] >= 0.8
    on_postgres = database_url.startswith("postgresql")
    assert (report["baseline_p50_ms"] is not None) is on_postgres
    assert (report["baseline_recall_at_10"] is not None) is on_postgres
    json.dumps(report)
    # A second run measures the loaded register again instead of loading it twice.
    again = run_search_benchmark(
        persons=300, database_url=database_url, queries=30, population=tiny_population
    )
    assert again["load_s"] is None
    assert again["recall_at_10"] == report["recall_at_10"]


def test_the_benchmark_refuses_a_register_of_another_size(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        load(engine, tiny_population(5, 1))
    finally:
        engine.dispose()
    with pytest.raises(RuntimeError, match="exactly 300"):
        run_search_benchmark(persons=300, database_url=database_url, population=tiny_population)


def test_a_typo_changes_one_letter_and_keeps_the_word_readable() -> None:
    rng = random.Random(5)
    for _ in range(500):
        word = rng.choice(SURNAMES + GIVEN_NAMES)
        changed = typo(rng, word, "абвгдеєжзиіїйклмнопрстуфхцчшщьюя")
        assert changed.casefold() != word.casefold()
        assert abs(len(changed) - len(word)) <= 1
        assert len(changed) >= 2
