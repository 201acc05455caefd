"""Messages out of order: a record about a person the register does not know yet is quarantined,
and retried when a birth registers someone after it (the same worker), so it ends applied."""

from __future__ import annotations

import datetime as dt
import itertools

from sqlalchemy import Engine, select

from oberih.db.engine import make_session_factory
from oberih.exchange.models import ExchangeRecord
from oberih.exchange.services import Processor, batch_report, receive_batch
from oberih.identifiers import make_rnokpp
from oberih.persons.models import IdentifierRow
from tests.integration.exchange.helpers import NOW, lines, message

BORN = dt.date(2026, 10, 30)
NEWBORN = {
    "surname": "Кривоніс",
    "given_name": "Орест",
    "patronymic": "Богданович",
    "birth_date": BORN.isoformat(),
    "sex": "male",
}
RNOKPP = make_rnokpp(BORN, 41, "male")


def _send(engine: Engine, source: str, body: bytes, at: dt.datetime):  # type: ignore[no-untyped-def]
    with make_session_factory(engine)() as session, session.begin():
        return receive_batch(
            session, source=source, body=body, signature=None, ring=None, now=at
        ).id


def test_a_record_before_its_persons_birth_is_applied_once_the_birth_arrives(
    engine: Engine,
) -> None:
    ticks = (NOW + dt.timedelta(seconds=n) for n in itertools.count())
    processor = Processor(sessions=make_session_factory(engine), clock=lambda: next(ticks))
    assigned = message(
        "t-1", "rnokpp_assigned", {"rnokpp": RNOKPP, "assigned_on": "2026-11-02"},
        **NEWBORN, rnokpp=RNOKPP,
    )  # fmt: skip
    early = _send(engine, "tax", lines(assigned), NOW)
    processor.process_pending()
    with make_session_factory(engine)() as session:
        [record] = session.scalars(select(ExchangeRecord))
        assert record.state == "quarantined"
        assert (record.reason or "").startswith("no-matching-person")

    birth = message("b-1", "birth", NEWBORN | {"birth_place": "м. Тернопіль"}, **NEWBORN)
    late = _send(engine, "civil_status", lines(birth), NOW + dt.timedelta(hours=1))
    processor.process_pending(batch_id=late)
    with make_session_factory(engine)() as session:
        ended = {r.source_record_id: r for r in session.scalars(select(ExchangeRecord))}
        assert ended["b-1"].state == "applied"
        newborn = ended["b-1"].person_id
        assert ended["t-1"].state == "applied" and ended["t-1"].person_id == newborn
        assert (
            session.scalar(select(IdentifierRow.person_id).where(IdentifierRow.value == RNOKPP))
            == newborn
        )
        assert batch_report(session, early).counts["applied"] == 1

    # Nobody new since: a record still unmatched is not retried again and again.
    stranger = message(
        "t-2", "rnokpp_assigned", {"rnokpp": make_rnokpp(BORN, 42, "male"),
                                   "assigned_on": "2026-11-03"},
        surname="Незнайомий", given_name="Ілля", birth_date="1971-01-01",
        rnokpp=make_rnokpp(BORN, 42, "male"),
    )  # fmt: skip
    _send(engine, "tax", lines(stranger), NOW + dt.timedelta(hours=2))
    assert processor.process_pending() == 1
    assert processor.process_pending() == 0
