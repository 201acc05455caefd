"""``db.queries``: ``among`` and ``pairs_in`` select exactly the rows of the values given."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Engine, insert, select

from oberih.db.queries import among, pairs_in
from oberih.persons.models import Person, PersonStateRow

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def test_pairs_in_selects_the_rows_of_the_pairs_given(engine: Engine) -> None:
    rows = {
        uuid.uuid4(): (surname_key, birth_year)
        for surname_key in ("бондар", "коваль", "шевченко")
        for birth_year in (1990, 1991, 1992)
    }
    wanted = [("бондар", 1991), ("шевченко", 1990), ("шевченко", 1992), ("мельник", 1991)]
    with engine.begin() as connection:
        connection.execute(insert(Person), [{"id": pid, "created_at": NOW} for pid in rows])
        connection.execute(
            insert(PersonStateRow),
            [
                {"person_id": pid, "version": 1, "surname_key": key, "birth_year": year,
                 "state": {}}
                for pid, (key, year) in rows.items()
            ],
        )  # fmt: skip
        for pairs in (wanted, wanted + wanted, []):
            found = set(
                connection.scalars(
                    select(PersonStateRow.person_id).where(
                        pairs_in(
                            PersonStateRow.surname_key,
                            PersonStateRow.birth_year,
                            pairs,
                            dialect=connection.dialect.name,
                        )
                    )
                )
            )
            assert found == {pid for pid, pair in rows.items() if pair in pairs}


def test_among_selects_the_rows_of_the_values_given(engine: Engine) -> None:
    ids = [uuid.uuid4() for _ in range(5)]
    with engine.begin() as connection:
        connection.execute(insert(Person), [{"id": pid, "created_at": NOW} for pid in ids])
        for wanted in (ids[1:3], ids[1:3] + ids[1:2], [uuid.uuid4()], []):
            found = set(
                connection.scalars(
                    select(Person.id).where(
                        among(Person.id, wanted, dialect=connection.dialect.name)
                    )
                )
            )
            assert found == set(wanted) & set(ids)
