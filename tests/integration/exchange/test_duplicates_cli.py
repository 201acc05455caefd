"""``oberih dedup`` then ``oberih exchange duplicates ...`` on both engines."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner, Result

from oberih.cli import app
from oberih.db.engine import make_session_factory
from oberih.exchange.duplicates import get_duplicate
from oberih.persons.services import find_person_by_identifier, get_state
from tests.integration.exchange.helpers import TWICE_UNZR, register_overlapping, register_twice

NO_SUCH = "00000000-0000-4000-8000-000000000000"


def _run(database_url: str, *command: str) -> Result:
    return CliRunner().invoke(app, [*command, "--database-url", database_url])


def _queued(engine: Engine, database_url: str) -> tuple[dict[str, Any], str, str]:
    """A man registered twice, found by ``oberih dedup``; the listed pair and its persons."""
    with make_session_factory(engine)() as session, session.begin():
        first, second = (str(person) for person in register_twice(session))
    found = _run(database_url, "dedup")
    assert found.exit_code == 0, found.output
    assert json.loads(found.output)["queued"] == 1
    listed = _run(database_url, "exchange", "duplicates", "list")
    assert listed.exit_code == 0, listed.output
    [pair] = [json.loads(line) for line in listed.output.strip().splitlines()]
    assert {pair["person_id"], pair["other_person_id"]} == {first, second}
    return pair, first, second


def test_a_person_registered_twice_is_found_shown_and_merged(
    engine: Engine, database_url: str
) -> None:
    pair, survivor, absorbed = _queued(engine, database_url)
    assert set(pair) == {"duplicate_id", "person_id", "other_person_id", "score"}  # no names

    shown = _run(database_url, "exchange", "duplicates", "show", pair["duplicate_id"])
    assert shown.exit_code == 0, shown.output
    detail = json.loads(shown.output)
    assert [p["person"]["surname"] for p in detail["persons"]] == ["Ґудзь", "Ґудзь"]
    assert detail["duplicate"]["score"] == pair["score"] and detail["levels"]

    merged = _run(database_url, "exchange", "duplicates", "merge", pair["duplicate_id"], survivor)
    assert merged.exit_code == 0, merged.output
    merge_id = json.loads(merged.output)["merge_id"]
    with make_session_factory(engine)() as session:
        assert str(find_person_by_identifier(session, "unzr", TWICE_UNZR)) == survivor
        assert get_state(session, uuid.UUID(survivor)).date_of_death is not None
        confirmed = get_duplicate(session, uuid.UUID(pair["duplicate_id"]))
        assert (confirmed.status, str(confirmed.merge_id)) == ("confirmed", merge_id)
    listed = _run(database_url, "exchange", "duplicates", "list")
    assert listed.exit_code == 0 and listed.output == ""

    # Undone, the pair is open again for the officer to judge anew.
    undone = _run(database_url, "exchange", "unmerge", merge_id)
    assert undone.exit_code == 0, undone.output
    reopened = _run(database_url, "exchange", "duplicates", "list")
    assert json.loads(reopened.output)["duplicate_id"] == pair["duplicate_id"]
    with make_session_factory(engine)() as session:
        assert str(find_person_by_identifier(session, "unzr", TWICE_UNZR)) == absorbed


def test_a_pair_rejected_is_not_decided_again(engine: Engine, database_url: str) -> None:
    pair, survivor, _ = _queued(engine, database_url)
    rejected = _run(database_url, "exchange", "duplicates", "reject", pair["duplicate_id"])
    assert rejected.exit_code == 0, rejected.output
    assert json.loads(rejected.output)["status"] == "rejected"
    for command in (["reject"], ["merge", survivor]):
        again = _run(database_url, "exchange", "duplicates", command[0], pair["duplicate_id"],
                     *command[1:])  # fmt: skip
        assert again.exit_code == 1
        assert again.output.strip() == "oberih: refused: this duplicate pair is already decided"


def test_a_merge_supersedes_the_absorbed_persons_other_pairs_until_undone(
    engine: Engine, database_url: str
) -> None:
    with make_session_factory(engine)() as session, session.begin():
        persons = register_overlapping(session)
    names = {str(person_id): name for name, person_id in persons.items()}
    assert json.loads(_run(database_url, "dedup").output)["queued"] == 2

    def listed() -> dict[str, str]:
        result = _run(database_url, "exchange", "duplicates", "list")
        assert result.exit_code == 0, result.output
        items = [json.loads(line) for line in result.output.strip().splitlines()]
        return {
            "".join(sorted(names[item["person_id"]] + names[item["other_person_id"]])): item[
                "duplicate_id"
            ]
            for item in items
        }

    before = listed()
    assert set(before) == {"AB", "BC"}
    merged = _run(database_url, "exchange", "duplicates", "merge", before["AB"], str(persons["A"]))
    assert merged.exit_code == 0, merged.output
    merge_id = json.loads(merged.output)["merge_id"]
    after = listed()
    assert set(after) == {"AC"}

    shown = _run(database_url, "exchange", "duplicates", "show", before["BC"])
    assert shown.exit_code == 0, shown.output
    detail = json.loads(shown.output)
    assert (detail["duplicate"]["status"], detail["duplicate"]["merge_id"]) == (
        "superseded",
        merge_id,
    )
    assert detail["merge"]["absorbed_id"] == str(persons["B"])
    refused = _run(database_url, "exchange", "duplicates", "reject", before["BC"])
    assert refused.exit_code == 1
    assert refused.output.strip() == (
        "oberih: refused: this duplicate pair is already decided: "
        f"superseded by merge {merge_id}: decide the survivor's pair instead"
    )

    undone = _run(database_url, "exchange", "unmerge", merge_id)
    assert undone.exit_code == 0, undone.output
    assert listed() == before
    gone = _run(database_url, "exchange", "duplicates", "show", after["AC"])
    assert gone.output.strip() == f"oberih: no such duplicate pair: {after['AC']}"


def test_a_survivor_outside_the_pair_is_refused_in_one_line(
    engine: Engine, database_url: str
) -> None:
    pair, _, _ = _queued(engine, database_url)
    refused = _run(database_url, "exchange", "duplicates", "merge", pair["duplicate_id"], NO_SUCH)
    assert refused.exit_code == 1
    assert refused.output.strip() == f"oberih: refused: person {NO_SUCH} is not one of this pair"
    listed = _run(database_url, "exchange", "duplicates", "list")
    assert json.loads(listed.output)["duplicate_id"] == pair["duplicate_id"]  # still open


@pytest.mark.parametrize(
    "command",
    [["show", NO_SUCH], ["merge", NO_SUCH, NO_SUCH], ["reject", NO_SUCH]],
)
def test_an_unknown_pair_is_named_in_one_line(database_url: str, command: list[str]) -> None:
    result = _run(database_url, "exchange", "duplicates", *command)
    assert result.exit_code == 1
    assert result.output.strip() == f"oberih: no such duplicate pair: {NO_SUCH}"


def test_a_list_limit_is_at_least_one(database_url: str) -> None:
    result = _run(database_url, "exchange", "duplicates", "list", "--limit", "0")
    assert result.exit_code == 2
