"""The projection row of a person: columns for fast reads and search, plus the state document.

Pure: the same facts always give the same row, so ``oberih rebuild`` can prove the stored
projection equals the fold of the journal.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from sqlalchemy.engine import Connection

from oberih.db.queries import upsert
from oberih.names import name_keys
from oberih.persons.models import NameKeyRow
from oberih.persons.state import PersonState

NAME_PARTS = (("surname", "surname"), ("given", "given_name"), ("patronymic", "patronymic"))


def projection_row(state: PersonState) -> dict[str, Any]:
    birth_date_text = state.identity_field("birth_date")
    birth_date = dt.date.fromisoformat(birth_date_text) if birth_date_text else None
    row: dict[str, Any] = {
        "person_id": state.person_id,
        "version": state.version,
        "surname": state.identity_field("surname"),
        "given_name": state.identity_field("given_name"),
        "patronymic": state.identity_field("patronymic"),
        "birth_date": birth_date,
        "birth_year": birth_date.year if birth_date else None,
        "sex": state.identity_field("sex"),
        "birth_place": state.identity_field("birth_place"),
        "region": state.region,
        "office_code": state.office_code,
        "category": state.category,
        "date_of_death": state.date_of_death,
        "last_recorded_at": state.last_recorded_at,
        "state": state.to_json(),
    }
    for _part, column in NAME_PARTS:
        value = row[column]
        row[f"{column}_key"] = search_key(value) if value else None
    return row


@lru_cache(maxsize=65536)
def search_key(name: str) -> str:
    """The exact-lookup key of a name: its Cyrillic key, or its Latin key for Latin-only names.

    Cached: a nation shares few distinct names, and bulk loads ask for the same ones millions of
    times."""
    keys = name_keys(name)
    return keys.cyrillic or keys.latin


@lru_cache(maxsize=65536)
def _dictionary_entry(part: str, name: str) -> tuple[str, str, str]:
    keys = name_keys(name)
    return (part, keys.cyrillic or keys.latin, keys.latin)


def name_dictionary_entries(row: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(part, Cyrillic key, Latin key) of each name in a projection row."""
    return [_dictionary_entry(part, row[column]) for part, column in NAME_PARTS if row[column]]


def name_count_changes(
    old: dict[str, Any] | None, new: dict[str, Any]
) -> Counter[tuple[str, str, str]]:
    """How the name dictionary's counts change when a projection's names go from ``old``
    (``None``: no projection yet) to ``new``: +1 for each entry that arrives, -1 for each that
    leaves."""
    arrived = set(name_dictionary_entries(new))
    left = set(name_dictionary_entries(old)) if old else set()
    changes: Counter[tuple[str, str, str]] = Counter(arrived - left)
    changes.subtract(left - arrived)
    return changes


def add_name_counts(connection: Connection, changes: Mapping[tuple[str, str, str], int]) -> None:
    """Add ``changes`` ((part, key, latin key) -> +n or -n) to the name dictionary's counts.

    Added in the statement (``upsert``'s ``add``), never read and written back: two
    transactions registering the same surname at once both count (a read-modify-write would
    keep one of them). Rows in one sorted order, as every writer takes them, so that two
    writers' statements lock rows in the same order. A name that leaves a projection always
    entered the dictionary when it arrived, so a count never goes below zero.
    """
    entries = [
        {"part": part, "key": key, "latin_key": latin, "frequency": count}
        for (part, key, latin), count in sorted(changes.items())
        if count
    ]
    if entries:
        connection.execute(
            upsert(connection, NameKeyRow, ["part", "key"], add="frequency"), entries
        )
