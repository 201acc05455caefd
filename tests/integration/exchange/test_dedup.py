"""oberih dedup: a person registered twice (a typo, no shared identifier) is queued once."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, select

from oberih.db.engine import make_session_factory
from oberih.exchange.dedup import find_duplicates
from oberih.exchange.models import DuplicateCandidate
from oberih.exchange.resolution import Resolver
from oberih.persons.facts import FactKind
from oberih.persons.services import create_person
from tests.factories import new_fact
from tests.integration.exchange.helpers import NOW, register_person


def test_a_probable_duplicate_is_queued_once(engine: Engine) -> None:
    sessions = make_session_factory(engine)
    with sessions() as session, session.begin():
        first = register_person(session)
        identity = {
            "surname": "Ґудзь",
            "given_name": "Тарас",
            "patronymic": "Остапович",
            "birth_date": "1990-03-15",
            "birth_place": "м. Полтава",
            "sex": "male",
        }
        second = create_person(
            session, facts=[new_fact(FactKind.identity, identity, source="civil_status")], now=NOW
        ).person_id
        other = {**identity, "given_name": "Ярема", "birth_date": "1961-01-02"}
        create_person(
            session, facts=[new_fact(FactKind.identity, other, source="civil_status")], now=NOW
        )
    for _ in range(2):
        with sessions() as session, session.begin():
            find_duplicates(session, resolver=Resolver(), now=NOW + dt.timedelta(days=1))
    with sessions() as session:
        [pair] = session.scalars(select(DuplicateCandidate))
        assert {pair.person_id, pair.other_person_id} == {first, second}
        assert pair.status == "open" and pair.score > 30
