"""PostgreSQL retrieval: pg_trgm over the name dictionary, one LATERAL probe per combination."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Text, bindparam, func, select, text, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from oberih.persons.search._core import (
    Combination,
    DictionaryEntry,
    NameWord,
    PersonRow,
    retrieval_threshold,
)
from oberih.persons.search.service import person_row, probe

# pg_trgm stores trigrams of non-ASCII letters as hashes and computes in float4: asking for a
# little less than the threshold makes sure nothing that Python's similarity keeps is missing.
THRESHOLD_MARGIN = 0.02

_SET_THRESHOLD = text("SELECT set_config('pg_trgm.similarity_threshold', :threshold, true)")
# The GIN trigram indexes on name_key (migration 0001) serve ``%``.
_DICTIONARY = {
    False: text("SELECT part, key, latin_key, frequency FROM name_key WHERE key % :word"),
    True: text("SELECT part, key, latin_key, frequency FROM name_key WHERE latin_key % :word"),
}
_KEY_ARRAYS = ("surnames", "givens", "patronymics")


class PostgresSearch:
    """Made for one search: its statement is built once and serves every chunk."""

    def __init__(self, where: Sequence[ColumnElement[bool]]) -> None:
        self._where = where
        self._statements: dict[int, Any] = {}

    def dictionary_entries(self, session: Session, word: NameWord) -> list[DictionaryEntry]:
        # Transaction-local: ends with the caller's transaction, touches no other session.
        threshold = max(0.0, retrieval_threshold(word.key) - THRESHOLD_MARGIN)
        session.execute(_SET_THRESHOLD, {"threshold": f"{threshold:.3f}"})
        rows = session.execute(_DICTIONARY[word.latin], {"word": word.key})
        return [
            DictionaryEntry(part=r.part, key=r.key, latin_key=r.latin_key, frequency=r.frequency)
            for r in rows
        ]

    def persons_of(
        self,
        session: Session,
        combinations: Sequence[Combination],
        limit: int,
    ) -> list[PersonRow]:
        if not combinations:
            return []
        shape = combinations[0].shape
        arrays = _KEY_ARRAYS[:shape]
        params: dict[str, Any] = {
            name: [combination.keys[index] for combination in combinations]
            for index, name in enumerate(arrays)
        }
        statement = self._statements.get(shape)
        if statement is None:
            statement = self._statements[shape] = _statement(shape, self._where)
        rows = session.execute(statement, {**params, "limit": limit})
        return [person_row(row) for row in rows]


def _statement(shape: int, where: Sequence[ColumnElement[bool]]) -> Any:
    """One round trip: per combination, an index range scan that stops after ``limit`` rows,
    however many thousands of persons share the name.

    SELECT ... FROM unnest(:surnames, :givens) AS c(s, g) CROSS JOIN LATERAL
      (SELECT ... FROM person_state WHERE surname_key = c.s COLLATE "C" AND ...
       ORDER BY ... LIMIT :limit)
    """
    arrays = [bindparam(name, type_=ARRAY(Text)) for name in _KEY_ARRAYS[:shape]]
    combinations = func.unnest(*arrays).table_valued(*"sgp"[:shape]).render_derived(name="c")
    # The key columns are in the "C" collation (migration 0002); the array elements must be
    # too, or PostgreSQL cannot tell which collation compares them.
    keys = [combinations.c[name].collate("C") for name in "sgp"[:shape]]
    persons = probe(shape, keys, where).limit(bindparam("limit")).lateral("ps")
    return select(persons).select_from(combinations.join(persons, true()))
