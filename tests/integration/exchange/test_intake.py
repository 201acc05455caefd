"""Intake on both engines: every record ends in one state, counts add up, nothing is lost."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from sqlalchemy import Engine, select

from oberih.db.engine import make_engine, make_session_factory
from oberih.exchange.models import ExchangeRecord, LinkDecision
from oberih.exchange.services import (
    NotQuarantined,
    Processor,
    batch_report,
    correct_record,
    decide_review,
    open_reviews,
    receive_batch,
)
from oberih.exchange.signing import BatchRejected
from oberih.persons.services import get_state
from tests.integration.exchange.helpers import (
    NOW,
    RNOKPP,
    SourceKeys,
    lines,
    message,
    process_batch,
    register_person,
)

DEATH = {"date_of_death": "2026-10-20"}


def processor(engine: Engine) -> Processor:
    return Processor(sessions=make_session_factory(engine), clock=lambda: NOW)


def submit(engine: Engine, keys: SourceKeys, body: bytes):  # type: ignore[no-untyped-def]
    with make_session_factory(engine)() as session, session.begin():
        batch = receive_batch(
            session,
            source=keys.source,
            body=body,
            signature=keys.sign(body),
            ring=keys.ring,
            now=NOW,
        )
        return batch.id


def test_every_record_ends_in_exactly_one_state(engine: Engine) -> None:
    sessions = make_session_factory(engine)
    with sessions() as session, session.begin():
        person_id = register_person(session)
    keys = SourceKeys("civil_status")
    death = message("d-1", "death", DEATH, rnokpp=RNOKPP)
    body = lines(
        death,
        death,  # the same record twice in one batch: the second is a duplicate
        message("d-1", "death", {"date_of_death": "2026-10-21"}, rnokpp=RNOKPP),  # conflict
        "{not json",
        message("d-2", "death", {"date_of_death": "someday"}, rnokpp=RNOKPP),  # invalid
        message(
            "b-1",
            "birth",
            {"surname": "Яремчук", "given_name": "Ія", "birth_date": "2026-11-01", "sex": "female"},
            surname="Яремчук", given_name="Ія", patronymic=None, birth_date="2026-11-01",
            sex="female",
        ),  # a new person
        message("d-3", "death", DEATH, surname="Невідомий", given_name="Никто"),  # no match
    )  # fmt: skip
    batch_id = submit(engine, keys, body)
    assert processor(engine).process_pending() == 7
    with sessions() as session:
        report = batch_report(session, batch_id)
        assert report.counts == {
            "pending": 0,
            "applied": 2,
            "duplicate": 1,
            "quarantined": 4,
            "review": 0,
        }
        assert sum(report.counts.values()) == report.records == 7
        assert report.status == "done"
        reasons = sorted(
            (r.reason or "").split(":")[0]
            for r in session.scalars(
                select(ExchangeRecord).where(ExchangeRecord.state == "quarantined")
            )
        )
        assert reasons == ["conflict", "invalid", "malformed", "no-matching-person"]
        # The death was recorded three weeks late, and is a death on its own day.
        state = get_state(session, person_id)
        assert state.date_of_death == dt.date(2026, 10, 20)
        decisions = session.scalars(select(LinkDecision).where(LinkDecision.outcome == "link"))
        assert {d.method for d in decisions} == {"identifier"}


def test_a_resent_batch_changes_nothing(engine: Engine) -> None:
    sessions = make_session_factory(engine)
    with sessions() as session, session.begin():
        register_person(session)
    keys = SourceKeys("civil_status")
    body = lines(message("d-1", "death", DEATH, rnokpp=RNOKPP))
    first = submit(engine, keys, body)
    processor(engine).process_pending()
    assert submit(engine, keys, body) == first
    # The same record in another batch is a duplicate, not a second death.
    again = submit(engine, keys, lines(message("d-1", "death", DEATH, rnokpp=RNOKPP), "\n"))
    processor(engine).process_pending()
    with sessions() as session:
        assert batch_report(session, again).counts["duplicate"] == 1


def test_unknown_key_or_bad_signature_rejects_the_whole_batch(engine: Engine) -> None:
    keys = SourceKeys("tax")
    other = SourceKeys("tax", kid="k2")
    body = lines(message("t-1", "rnokpp_assigned", {"rnokpp": RNOKPP, "assigned_on": "2008-01-01"}))
    with make_session_factory(engine)() as session:
        with pytest.raises(BatchRejected) as unknown:
            receive_batch(
                session,
                source="tax",
                body=body,
                signature=other.sign(body),
                ring=keys.ring,
                now=NOW,
            )
        assert unknown.value.reason == "unknown-key"
        with pytest.raises(BatchRejected) as bad:
            receive_batch(
                session,
                source="tax",
                body=body + b"\n",
                signature=keys.sign(body),
                ring=keys.ring,
                now=NOW,
            )
        assert bad.value.reason == "bad-signature"
        with pytest.raises(BatchRejected) as foreign:
            receive_batch(
                session,
                source="health",
                body=body,
                signature=keys.sign(body),
                ring=keys.ring,
                now=NOW,
            )
        assert foreign.value.reason == "unknown-key"


def test_a_quarantined_record_is_corrected_and_replayed(engine: Engine) -> None:
    sessions = make_session_factory(engine)
    with sessions() as session, session.begin():
        person_id = register_person(session)
    keys = SourceKeys("civil_status")
    batch_id = submit(
        engine, keys, lines(message("d-2", "death", {"date_of_death": "x"}, rnokpp=RNOKPP))
    )
    work = processor(engine)
    work.process_pending()
    corrected = lines(message("d-2", "death", DEATH, rnokpp=RNOKPP)).decode().strip()
    with sessions() as session, session.begin():
        correct_record(session, batch_id=batch_id, position=1, corrected=corrected)
    work.process_pending()
    with sessions() as session:
        record = session.get(ExchangeRecord, (batch_id, 1))
        assert record is not None and record.state == "applied"
        assert record.original_raw is not None and '"x"' in record.original_raw
        assert get_state(session, person_id).date_of_death == dt.date(2026, 10, 20)


def test_an_uncertain_match_waits_for_an_officer(engine: Engine) -> None:
    sessions = make_session_factory(engine)
    with sessions() as session, session.begin():
        person_id = register_person(session)
    keys = SourceKeys("border")
    # No identifier, a misspelled surname, a swapped day and month, no patronymic.
    crossing = message(
        "x-1", "exit", {"crossed_on": "2026-11-01", "country": "POL"},
        surname="Гудзь", patronymic=None, birth_date="1990-03-15", sex=None,
    )  # fmt: skip
    batch_id = submit(engine, keys, lines(crossing))
    work = processor(engine)
    work.process_pending()
    with sessions() as session:
        counts = batch_report(session, batch_id).counts
    if counts["applied"] == 1:  # strong enough for an automatic link: then it is the right one
        with sessions() as session:
            record = session.get(ExchangeRecord, (batch_id, 1))
            assert record is not None and record.person_id == person_id
        return
    assert counts["review"] == 1
    with sessions() as session, session.begin():
        [review] = open_reviews(session)
        assert review.candidates[0]["person_id"] == str(person_id)
        decide_review(work, session, review_id=review.id, person_id=person_id, actor="officer-1")
    with sessions() as session:
        assert batch_report(session, batch_id).counts["applied"] == 1
        assert get_state(session, person_id).border_crossings


def test_a_csv_batch_is_taken_row_by_row(engine: Engine) -> None:
    sessions = make_session_factory(engine)
    with sessions() as session, session.begin():
        register_person(session)
    keys = SourceKeys("employer")
    body = (
        "source_record_id,recorded_at,message_type,subject.rnokpp,"
        "payload.employer_code,payload.reserved_from\n"
        f"e-1,2026-11-01T10:00:00Z,reservation,{RNOKPP},00000017,2026-01-01\n"
        f"e-2,2026-11-01T10:00:00Z,reservation,{RNOKPP},bad,2026-01-01\n"
    ).encode()
    with sessions() as session, session.begin():
        batch = receive_batch(
            session,
            source="employer",
            body=body,
            signature=keys.sign(body),
            ring=keys.ring,
            now=NOW,
            batch_format="csv",
        )
        batch_id = batch.id
    processor(engine).process_pending()
    with sessions() as session:
        counts = batch_report(session, batch_id).counts
        assert counts["applied"] == 1 and counts["quarantined"] == 1


def test_a_name_may_hold_a_unicode_line_separator(engine: Engine) -> None:
    keys = SourceKeys("border")
    body = lines(message("x-1", "exit", {"crossed_on": "2026-10-01"}, surname="Ко\u2028вал"))
    with make_session_factory(engine)() as session, session.begin():
        batch = receive_batch(
            session, source="border", body=body, signature=keys.sign(body), ring=keys.ring, now=NOW
        )
        assert batch.record_count == 1


def test_a_line_that_is_not_json_is_quarantined_saying_where(engine: Engine) -> None:
    # NaN is not JSON (RFC 8259): a source that writes it sends a malformed record.
    keys = SourceKeys("civil_status")
    body = lines('{"message_type": "death", "payload": {"date', '{"message_type": NaN}')
    batch_id = submit(engine, keys, body)
    assert processor(engine).process_pending() == 2
    with make_session_factory(engine)() as session:
        reasons = session.scalars(
            select(ExchangeRecord.reason)
            .where(ExchangeRecord.batch_id == batch_id)
            .order_by(ExchangeRecord.position)
        ).all()
    assert reasons == [
        "malformed: not JSON (unexpected end of data, column 44)",
        "malformed: not JSON (unexpected character, expected a JSON value, column 18)",
    ]


@pytest.mark.postgres
def test_of_two_replays_at_once_the_second_finds_the_record_replayed(
    postgres_database_url: str,
) -> None:
    # Two operators replay the same quarantined record at the same moment (on SQLite one
    # writer at a time already orders them).
    engine = make_engine(postgres_database_url)
    try:
        _replay_twice_at_once(engine)
    finally:
        engine.dispose()


def _replay_twice_at_once(engine: Engine) -> None:
    sessions = make_session_factory(engine)
    with sessions() as session, session.begin():
        register_person(session)
    keys = SourceKeys("civil_status")
    batch_id = submit(engine, keys, lines("{broken"))
    work = processor(engine)
    work.process_pending()
    corrected = lines(message("d-2", "death", DEATH, rnokpp=RNOKPP)).decode().strip()
    second: list[object] = []

    def replay_again() -> None:
        try:
            with sessions() as session, session.begin():
                record = correct_record(session, batch_id=batch_id, position=1, corrected=corrected)
                work.process_record(session, record)
                second.append(record.state)
        except NotQuarantined as exc:
            second.append(exc)

    with sessions() as session, session.begin():
        record = correct_record(session, batch_id=batch_id, position=1, corrected=corrected)
        work.process_record(session, record)
        other = threading.Thread(target=replay_again)
        other.start()
        time.sleep(0.5)  # the second replay reaches the record while the first holds it
    other.join(timeout=30)
    assert len(second) == 1 and isinstance(second[0], NotQuarantined)


@pytest.mark.parametrize("batch_format", ["jsonl", "csv"])
def test_a_byte_order_mark_is_no_part_of_the_first_record(
    engine: Engine, batch_format: str
) -> None:
    # Excel's "CSV UTF-8" begins with one; kept, it would spoil the first column of every row.
    sessions = make_session_factory(engine)
    with sessions() as session, session.begin():
        register_person(session)
    keys = SourceKeys("employer")
    reservation = message(
        "e-1",
        "reservation",
        {"employer_code": "00000017", "reserved_from": "2026-01-01"},
        rnokpp=RNOKPP,
    )
    text = (
        "source_record_id,recorded_at,message_type,subject.rnokpp,"
        "payload.employer_code,payload.reserved_from\n"
        f"e-1,2026-11-01T10:00:00Z,reservation,{RNOKPP},00000017,2026-01-01\n"
        if batch_format == "csv"
        else lines(reservation).decode()
    )
    body = "\ufeff".encode() + text.encode()
    with sessions() as session, session.begin():
        batch_id = receive_batch(
            session, source="employer", body=body, signature=keys.sign(body), ring=keys.ring,
            now=NOW, batch_format=batch_format,
        ).id  # fmt: skip
    processor(engine).process_pending()
    with sessions() as session:
        assert batch_report(session, batch_id).counts["applied"] == 1


@pytest.mark.parametrize("one_record", [False, True], ids=["chunk", "one-record"])
def test_a_record_recorded_after_its_batch_was_received_is_quarantined(
    engine: Engine, one_record: bool
) -> None:
    # A source's clock ahead of the register's by more than an hour: recorded_at is wrong, and
    # the acts checked against it could be dated in the future (a death next year).
    sessions = make_session_factory(engine)
    with sessions() as session, session.begin():
        person_id = register_person(session)
    ahead = message("d-1", "death", {"date_of_death": "2026-11-21"}, rnokpp=RNOKPP)
    ahead["recorded_at"] = (NOW + dt.timedelta(hours=1, minutes=1)).isoformat()
    skewed = message("d-2", "death", DEATH, rnokpp=RNOKPP)
    skewed["recorded_at"] = (NOW + dt.timedelta(minutes=59)).isoformat()  # within the tolerance
    naive = message("d-3", "death", DEATH, rnokpp=RNOKPP)
    # Two hours ahead in UTC, though its clock's own reading is before the register's.
    naive["recorded_at"] = "2026-11-20T09:00:00-03:00"
    batch_id = submit(engine, SourceKeys("civil_status"), lines(ahead, skewed, naive))
    process_batch(processor(engine), batch_id, one_record=one_record)
    with sessions() as session:
        ended = {r.source_record_id: r for r in session.scalars(select(ExchangeRecord))}
        reason = "invalid: recorded_at is more than an hour after the batch was received"
        assert (ended["d-1"].state, ended["d-1"].reason) == ("quarantined", reason)
        assert (ended["d-3"].state, ended["d-3"].reason) == ("quarantined", reason)
        assert ended["d-2"].state == "applied"
        assert get_state(session, person_id).date_of_death == dt.date(2026, 10, 20)


@pytest.mark.parametrize("batch_format", ["jsonl", "csv"])
@pytest.mark.parametrize("one_record", [False, True], ids=["chunk", "one-record"])
def test_a_time_without_its_utc_offset_is_quarantined_naming_the_field(
    engine: Engine, batch_format: str, one_record: bool
) -> None:
    # Read as UTC, the time of a source in Kyiv that left the offset out is two or three hours
    # off; a day alone is no time at all. RFC 3339 (5.6) writes a date-time with its offset.
    sessions = make_session_factory(engine)
    with sessions() as session, session.begin():
        person_id = register_person(session)
    times = {
        "d-1": "2026-11-10T09:00:00",
        "d-2": "2026-11-10",
        "d-3": "2026-11-10T11:00:00+02:00",
    }
    if batch_format == "csv":
        body = (
            "source_record_id,recorded_at,message_type,subject.rnokpp,payload.date_of_death\n"
            + "".join(f"{rid},{at},death,{RNOKPP},2026-10-20\n" for rid, at in times.items())
        ).encode()
    else:
        documents = [message(rid, "death", DEATH, rnokpp=RNOKPP) for rid in times]
        for document in documents:
            document["recorded_at"] = times[document["source_record_id"]]
        body = lines(*documents)
    keys = SourceKeys("civil_status")
    with sessions() as session, session.begin():
        batch_id = receive_batch(
            session, source="civil_status", body=body, signature=keys.sign(body),
            ring=keys.ring, now=NOW, batch_format=batch_format,
        ).id  # fmt: skip
    process_batch(processor(engine), batch_id, one_record=one_record)
    with sessions() as session:
        ended = {r.source_record_id: r for r in session.scalars(select(ExchangeRecord))}
        reason = "invalid: death.recorded_at: a time without its UTC offset"
        assert (ended["d-1"].state, ended["d-1"].reason) == ("quarantined", reason)
        assert (ended["d-2"].state, ended["d-2"].reason) == ("quarantined", reason)
        assert ended["d-3"].state == "applied"
        assert get_state(session, person_id).date_of_death == dt.date(2026, 10, 20)
