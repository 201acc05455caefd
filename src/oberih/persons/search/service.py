"""``search_persons``: one entry point, engine-specific retrieval behind ``SearchBackend``.

Filters (birth year, region, deceased) and the caller's area (``office_codes``, or any SQL
``condition`` on ``person_state`` such as ``oberih.auth.jurisdiction.scope_condition``) are
applied inside every SQL statement, so a search never reads, counts or returns a person outside
the caller's area.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from itertools import chain, repeat
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from oberih.persons.models import IdentifierRow, PersonStateRow
from oberih.persons.search._core import (
    DEFAULT_LIMIT,
    Combination,
    DictionaryEntry,
    IdentifierQuery,
    NameQuery,
    NameWord,
    PersonRow,
    SearchFilters,
    SearchHit,
    best_matches,
    check_limit,
    make_filters,
    parse_query,
    rank_combinations,
    rank_hits,
    to_hit,
)

# Combinations fetched per round trip: the first usually fills the page; later ones grow.
CHUNK_SIZES = (8, 32, 128, 256)

PERSON_COLUMNS = (
    PersonStateRow.person_id,
    PersonStateRow.surname,
    PersonStateRow.given_name,
    PersonStateRow.patronymic,
    PersonStateRow.birth_date,
    PersonStateRow.region,
    PersonStateRow.office_code,
    PersonStateRow.surname_key,
    PersonStateRow.given_name_key,
    PersonStateRow.patronymic_key,
)
KEY_COLUMNS = (
    PersonStateRow.surname_key,
    PersonStateRow.given_name_key,
    PersonStateRow.patronymic_key,
)


class SearchBackend(Protocol):
    """The two things that differ per engine: finding dictionary keys, fetching persons.

    One instance serves one search, whose conditions on ``person_state`` it is made with.
    """

    def dictionary_entries(self, session: Session, word: NameWord) -> list[DictionaryEntry]:
        """Every entry that ``_core.is_candidate`` accepts for the word (more is allowed)."""
        ...

    def persons_of(
        self, session: Session, combinations: Sequence[Combination], limit: int
    ) -> list[PersonRow]:
        """For each combination, its first ``limit`` persons meeting the search's conditions,
        in hit order."""
        ...


def search_persons(
    session: Session,
    *,
    query: str,
    birth_year: int | None = None,
    region: str | None = None,
    office_codes: Collection[str] | None = None,
    condition: ColumnElement[bool] | None = None,
    include_deceased: bool = True,
    limit: int = DEFAULT_LIMIT,
) -> list[SearchHit]:
    """Persons matching an identifier exactly, or a name typo-tolerantly, best first.

    ``office_codes``: None means no limit, an empty collection finds nobody. ``condition``: any
    further SQL condition on ``person_state`` (the caller's jurisdiction). Both are applied
    inside the queries. Raises ``InvalidSearch`` for an empty, too short or too long query, a
    malformed identifier, a limit outside 1..100 or an impossible birth year.
    """
    parsed = parse_query(query)
    limit = check_limit(limit)
    filters = make_filters(
        birth_year=birth_year,
        region=region,
        office_codes=office_codes,
        include_deceased=include_deceased,
    )
    if filters.excludes_everyone:
        return []
    where = person_conditions(filters, condition)
    if isinstance(parsed, IdentifierQuery):
        return search_by_identifier(session, parsed, where)
    return search_by_name(session, backend_for(session, where), parsed, limit)


def backend_for(session: Session, where: Sequence[ColumnElement[bool]]) -> SearchBackend:
    if session.get_bind().dialect.name == "postgresql":
        from oberih.persons.search.postgres import PostgresSearch

        return PostgresSearch(where)
    from oberih.persons.search.sqlite import SqliteSearch

    return SqliteSearch(where)


def search_by_identifier(
    session: Session, query: IdentifierQuery, where: Sequence[ColumnElement[bool]]
) -> list[SearchHit]:
    statement = (
        select(*PERSON_COLUMNS)
        .join(IdentifierRow, IdentifierRow.person_id == PersonStateRow.person_id)
        .where(
            IdentifierRow.kind == query.kind,
            IdentifierRow.value == query.value,
            IdentifierRow.active,
            *where,
        )
    )
    return [
        to_hit(person_row(row), score=1.0, matched_by=query.kind)
        for row in session.execute(statement)
    ]


def search_by_name(
    session: Session,
    backend: SearchBackend,
    query: NameQuery,
    limit: int,
) -> list[SearchHit]:
    matches = [
        best_matches(word, backend.dictionary_entries(session, word)) for word in query.words
    ]
    combinations = rank_combinations(matches)
    rows: list[PersonRow] = []
    for chunk in chunks(combinations):
        rows.extend(backend.persons_of(session, chunk, limit))
        # Every person of a combination comes after every person of the ones before it.
        if len(rows) >= limit:
            break
    return rank_hits(rows, combinations, limit)


def chunks(combinations: Sequence[Combination]) -> Iterator[Sequence[Combination]]:
    start = 0
    for size in chain(CHUNK_SIZES, repeat(CHUNK_SIZES[-1])):
        if start >= len(combinations):
            return
        yield combinations[start : start + size]
        start += size


# --- SQL shared by the engines ------------------------------------------------------------------


def person_conditions(
    filters: SearchFilters, condition: ColumnElement[bool] | None
) -> list[ColumnElement[bool]]:
    """Conditions on ``person_state`` that every statement of the search applies."""
    where: list[ColumnElement[bool]] = []
    if filters.born_from is not None and filters.born_until is not None:
        where.append(PersonStateRow.birth_date.between(filters.born_from, filters.born_until))
    if filters.region is not None:
        where.append(PersonStateRow.region == filters.region)
    if filters.office_codes is not None:
        where.append(PersonStateRow.office_code.in_(sorted(filters.office_codes)))
    if not filters.include_deceased:
        where.append(PersonStateRow.date_of_death.is_(None))
    if condition is not None:
        where.append(condition)
    return where


def combination_order(shape: int) -> list[Any]:
    """The hit order inside a combination of this shape (see ``_core.hit_order``).

    NULLS LAST is PostgreSQL's default for ascending order, so its index serves it; SQLite
    needs it spelled out.
    """
    return [
        *(column.asc().nulls_last() for column in KEY_COLUMNS[shape:]),
        PersonStateRow.birth_date.asc().nulls_last(),
        PersonStateRow.person_id.asc(),
    ]


def probe(
    shape: int, keys: Sequence[ColumnElement[Any]], where: Sequence[ColumnElement[bool]]
) -> Select[*tuple[Any, ...]]:
    """The persons of one combination, given its keys as SQL expressions, in hit order."""
    return (
        select(*PERSON_COLUMNS)
        .where(
            *(column == key for column, key in zip(KEY_COLUMNS[:shape], keys, strict=True)),
            *where,
        )
        .order_by(*combination_order(shape))
    )


def person_row(row: Row[*tuple[Any, ...]]) -> PersonRow:
    return PersonRow(
        person_id=row.person_id,
        surname=row.surname,
        given_name=row.given_name,
        patronymic=row.patronymic,
        birth_date=row.birth_date,
        region=row.region,
        office_code=row.office_code,
        surname_key=row.surname_key,
        given_name_key=row.given_name_key,
        patronymic_key=row.patronymic_key,
    )
