"""Messages out of order: a record about a person the register does not know yet is quarantined,
and retried when a birth registers someone after it (the same worker), so it ends applied."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from sqlalchemy import Engine, select

from oberih.db.engine import make_session_factory
from oberih.exchange.models import ExchangeRecord
from oberih.exchange.services import Processor, batch_report, receive_batch
from oberih.identifiers import make_rnokpp
from oberih.persons.models import IdentifierRow
from oberih.persons.services import get_state
from oberih.persons.state import Entry, PersonState
from oberih.rules.services import evaluate_person
from tests.integration.exchange.helpers import NOW, lines, message, register_person
from tests.integration.exchange.helpers import RNOKPP as RNOKPP_HELD

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


# An ending sent before the record it ends: (source, the start, the ending).
ENDINGS = {
    "enrolment": (
        "education",
        message("e-1", "enrolment", {"level": "master", "form": "full_time",
                "institution_code": "233", "enrolled_on": "2024-09-01"}, rnokpp=RNOKPP_HELD),
        message("e-2", "enrolment_ended", {"level": "master", "form": "full_time",
                "institution_code": "233", "enrolled_on": "2024-09-01",
                "ended_on": "2026-06-30", "enrolment_record_id": "e-1"}, rnokpp=RNOKPP_HELD),
    ),
    "employment": (
        "tax",
        message("t-1", "employment_started", {"employer_code": "00000017",
                "started_on": "2020-01-01"}, rnokpp=RNOKPP_HELD),
        message("t-2", "employment_ended", {"employer_code": "00000017",
                "started_on": "2020-01-01", "ended_on": "2026-06-30",
                "start_record_id": "t-1"}, rnokpp=RNOKPP_HELD),
    ),
    "marriage": (
        "civil_status",
        message("m-1", "marriage", {"spouse_name": "Ольга Ґудзь", "married_on": "2015-06-06"},
                rnokpp=RNOKPP_HELD),
        message("m-2", "divorce", {"spouse_name": "Ольга Ґудзь", "married_on": "2015-06-06",
                "divorced_on": "2026-06-30", "marriage_record_id": "m-1"}, rnokpp=RNOKPP_HELD),
    ),
    "caregiver": (
        "social",
        message("s-1", "caregiver", {"relation": "parent", "relative_disability_group": "I",
                "since": "2023-03-01"}, rnokpp=RNOKPP_HELD),
        message("s-2", "caregiver", {"relation": "parent", "relative_disability_group": "I",
                "since": "2023-03-01", "until": "2026-06-30", "start_record_id": "s-1"},
                rnokpp=RNOKPP_HELD),
    ),
    "disability": (
        "social",
        message("s-3", "disability_group", {"group": "II", "established_on": "2022-05-01"},
                rnokpp=RNOKPP_HELD),
        message("s-4", "disability_group", {"group": "II", "established_on": "2022-05-01",
                "until": "2026-06-30", "start_record_id": "s-3"}, rnokpp=RNOKPP_HELD),
    ),
    "reservation": (
        "employer",
        message("r-1", "reservation", {"employer_code": "00000017",
                "reserved_from": "2025-01-01"}, rnokpp=RNOKPP_HELD),
        message("r-2", "reservation", {"employer_code": "00000017",
                "reserved_from": "2025-01-01", "reserved_until": "2026-06-30",
                "start_record_id": "r-1"}, rnokpp=RNOKPP_HELD),
    ),
}  # fmt: skip


def _slot(state: PersonState, what: str) -> list[Entry]:
    return {"enrolment": state.education, "employment": state.employment,
            "marriage": state.family, "caregiver": state.family,
            "disability": state.disability, "reservation": state.reservations}[what]  # fmt: skip


@pytest.mark.parametrize("one_batch", [False, True], ids=["two-batches", "one-batch"])
@pytest.mark.parametrize("what", sorted(ENDINGS))
def test_an_ending_that_arrives_before_its_start_keeps_it_ended(
    engine: Engine, what: str, one_batch: bool
) -> None:
    # A divorce before its marriage, an enrolment ended before the enrolment: once the start
    # arrives, the register must not hold it open again (an open enrolment is a deferral).
    sessions = make_session_factory(engine)
    with sessions() as session, session.begin():
        person_id = register_person(session)
    ticks = (NOW + dt.timedelta(seconds=n) for n in itertools.count())
    processor = Processor(sessions=sessions, clock=lambda: next(ticks))
    source, start, ending = ENDINGS[what]
    if one_batch:
        _send(engine, source, lines(ending, start), NOW)
    else:
        _send(engine, source, lines(ending), NOW)
        processor.process_pending()
        _send(engine, source, lines(start), NOW + dt.timedelta(hours=1))
    processor.process_pending()
    with sessions() as session:
        assert {r.state for r in session.scalars(select(ExchangeRecord))} == {"applied"}
        state = get_state(session, person_id)
        assert [entry.valid_to for entry in _slot(state, what)] == [dt.date(2026, 6, 30)]
        if what == "enrolment":
            determination = evaluate_person(session, person_id, NOW.date())
            assert determination.deferrals == ()


@pytest.mark.parametrize("what", sorted(ENDINGS))
def test_a_status_a_source_stated_is_ended_by_a_record_naming_it(engine: Engine, what: str) -> None:
    # A caregiver's status, a disability group or a reservation ends (the relative recovered,
    # the group was withdrawn, the reservation expired): the ending names the record that
    # started it, and the status is then one closed interval, not an open one beside a closed.
    sessions = make_session_factory(engine)
    with sessions() as session, session.begin():
        person_id = register_person(session)
    ticks = (NOW + dt.timedelta(seconds=n) for n in itertools.count())
    processor = Processor(sessions=sessions, clock=lambda: next(ticks))
    source, start, ending = ENDINGS[what]
    _send(engine, source, lines(start), NOW)
    processor.process_pending()
    _send(engine, source, lines(ending), NOW + dt.timedelta(hours=1))
    processor.process_pending()
    with sessions() as session:
        assert {r.state for r in session.scalars(select(ExchangeRecord))} == {"applied"}
        state = get_state(session, person_id)
        assert [entry.valid_to for entry in _slot(state, what)] == [dt.date(2026, 6, 30)]
        if what in ("caregiver", "disability"):  # the deferral it gave ends with it
            determination = evaluate_person(session, person_id, NOW.date())
            assert determination.deferrals == ()
