"""``oberih person show`` answers history questions: late corrections and retractions."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy.orm import Session
from typer.testing import CliRunner

from oberih.cli import app
from oberih.identifiers import make_rnokpp
from oberih.persons.facts import FactKind
from oberih.persons.services import append_facts, create_person
from tests.factories import address_payload, identity_payload, new_fact, utc

RNOKPP = make_rnokpp(dt.date(1991, 7, 4), 21, "male")


def _history(session: Session) -> str:
    created = create_person(
        session,
        facts=[
            new_fact(FactKind.identity, identity_payload(birth_date="1991-07-04")),
            new_fact(FactKind.identifier, {"identifier_kind": "rnokpp", "value": RNOKPP}),
            new_fact(FactKind.address, address_payload("Lviv"), valid_from=dt.date(2019, 1, 1)),
        ],
        now=utc(2020, 1, 1),
    )
    deferral = append_facts(
        session,
        person_id=created.person_id,
        facts=[
            new_fact(
                FactKind.deferral,
                {"ground": "full_time_student"},
                valid_from=dt.date(2023, 9, 1),
                valid_to=dt.date(2027, 6, 30),
            )
        ],
        now=utc(2023, 9, 2),
    ).appended[0]
    # Late: recorded in 2024, true since 2022 (a move the register learned of late).
    append_facts(
        session,
        person_id=created.person_id,
        facts=[
            new_fact(
                FactKind.address, address_payload("Odesa", "UA51"), valid_from=dt.date(2022, 3, 1)
            )
        ],
        now=utc(2024, 5, 1),
    )
    append_facts(
        session,
        person_id=created.person_id,
        facts=[
            new_fact(
                FactKind.retraction,
                {"reason": "enrolment belonged to another person"},
                supersedes_id=deferral.id,
            )
        ],
        now=utc(2024, 6, 1),
    )
    session.commit()
    return str(created.person_id)


def _show(database_url: str, *args: str) -> dict:  # type: ignore[type-arg]
    result = CliRunner().invoke(
        app, ["person", "show", *args, "--json", "--database-url", database_url]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_show_answers_as_of_world_date_and_register_time(
    database_url: str, session: Session
) -> None:
    person_id = _history(session)
    then = _show(database_url, RNOKPP, "--valid-at", "2022-06-01", "--known-at", "2024-01-01")
    assert then["registered_address"]["data"]["settlement"] == "Lviv"
    assert [d["data"]["ground"] for d in then["deferrals"]] == []  # not yet begun on 2022-06-01
    now_known = _show(database_url, person_id, "--valid-at", "2022-06-01")
    assert now_known["registered_address"]["data"]["settlement"] == "Odesa"


def test_retraction_hides_the_fact_only_from_when_it_was_recorded(
    database_url: str, session: Session
) -> None:
    person_id = _history(session)
    before = _show(database_url, person_id, "--valid-at", "2024-01-01", "--known-at", "2024-05-15")
    assert [d["data"]["ground"] for d in before["deferrals"]] == ["full_time_student"]
    after = _show(database_url, person_id, "--valid-at", "2024-01-01")
    assert after["deferrals"] == []


def test_unknown_person_exits_non_zero(database_url: str) -> None:
    result = CliRunner().invoke(
        app,
        ["person", "show", "00000000-0000-4000-8000-000000000000", "--database-url", database_url],
    )
    assert result.exit_code == 1


def test_search_finds_a_misspelled_name(database_url: str, session: Session) -> None:
    person_id = _history(session)
    result = CliRunner().invoke(
        app, ["person", "search", "Ковальчюк Тарас", "--json", "--database-url", database_url]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["person_id"] == person_id
