"""Folding new facts onto a stored state gives what folding the whole journal gives."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oberih.persons.facts import Fact, FactKind
from oberih.persons.state import can_fold_onto, fold, fold_onto, state_from_json
from tests.factories import make_fact, utc

PERSON = uuid.uuid4()
_DAYS = [None, dt.date(2020, 1, 1), dt.date(2021, 6, 1), dt.date(2022, 3, 1)]
_MOMENTS = [utc(2024, 1, 1), utc(2024, 1, 2), utc(2024, 3, 1), utc(2025, 1, 1)]

_PAYLOADS: dict[FactKind, Any] = {
    FactKind.identity: st.fixed_dictionaries(
        {"surname": st.sampled_from(["Коваль", "Бондар"]), "birth_date": st.just("1990-01-01")}
    ),
    FactKind.identifier: st.fixed_dictionaries(
        {
            "identifier_kind": st.sampled_from(["rnokpp", "unzr"]),
            "value": st.sampled_from(["1", "2"]),
            "status": st.sampled_from(["active", "invalidated"]),
        }
    ),
    FactKind.address: st.fixed_dictionaries(
        {
            "address_kind": st.sampled_from(["registered", "actual"]),
            "settlement": st.sampled_from(["Київ", "Львів"]),
        }
    ),
    FactKind.contact: st.fixed_dictionaries(
        {
            "phone": st.sampled_from([None, "+380501111111", "+380502222222"]),
            "email": st.sampled_from([None, "a@example.org"]),
        }
    ),
    FactKind.death: st.just({"date_of_death": "2023-01-01"}),
    FactKind.military_registration: st.fixed_dictionaries(
        {"category": st.sampled_from(["conscript", "reservist"]), "office_code": st.just("K1")}
    ),
    FactKind.medical_decision: st.fixed_dictionaries(
        {"fitness": st.sampled_from(["fit", "unfit"])}
    ),
    FactKind.border_crossing: st.fixed_dictionaries(
        {"direction": st.sampled_from(["exit", "entry"])}
    ),
    **{
        kind: st.fixed_dictionaries({"note": st.integers(0, 3)})
        for kind in (
            FactKind.family,
            FactKind.education,
            FactKind.employment,
            FactKind.disability,
            FactKind.deferral,
            FactKind.reservation,
            FactKind.service,
        )
    },
}

_fact_shapes = st.tuples(
    st.sampled_from(sorted(_PAYLOADS)).flatmap(lambda k: st.tuples(st.just(k), _PAYLOADS[k])),
    st.sampled_from(_DAYS),
    st.sampled_from(_DAYS),
)


@st.composite
def _histories(draw: st.DrawFn) -> tuple[list[Fact], list[Fact]]:
    """A journal (corrections and retractions included, recorded out of order at times) and
    facts appended after it as intake appends them (in order, superseding nothing)."""
    journal: list[Fact] = []
    for seq, ((kind, payload), valid_from, valid_to) in enumerate(
        draw(st.lists(_fact_shapes, max_size=14)), 1
    ):
        supersedes = None
        if journal and draw(st.booleans()) and draw(st.booleans()):
            supersedes = draw(st.sampled_from(journal)).id
            kind = draw(st.sampled_from([kind, FactKind.retraction]))
        journal.append(_fact(kind, payload, seq, draw(st.sampled_from(_MOMENTS)), valid_from,
                             valid_to, supersedes))  # fmt: skip
    last = max((fact.recorded_at for fact in journal), default=_MOMENTS[0])
    moments = sorted(draw(st.lists(st.sampled_from([m for m in _MOMENTS if m >= last] or [last]))))
    new = [
        _fact(kind, payload, len(journal) + index, moment, valid_from, valid_to, None)
        for index, (((kind, payload), valid_from, valid_to), moment) in enumerate(
            zip(draw(st.lists(_fact_shapes, min_size=len(moments), max_size=len(moments))),
                moments, strict=True), 1
        )
    ]  # fmt: skip
    return journal, new


def _fact(
    kind: FactKind,
    payload: dict[str, Any],
    seq: int,
    recorded_at: dt.datetime,
    valid_from: dt.date | None,
    valid_to: dt.date | None,
    supersedes_id: uuid.UUID | None,
) -> Fact:
    if valid_from and valid_to and valid_to < valid_from:
        valid_from, valid_to = valid_to, valid_from
    return make_fact(
        kind,
        payload,
        person_id=PERSON,
        seq=seq,
        recorded_at=recorded_at,
        valid_from=valid_from,
        valid_to=valid_to,
        supersedes_id=supersedes_id,
    )


def _stored(journal: list[Fact]) -> Any:
    """The projection's state as read back from the database (a JSON document)."""
    return state_from_json(json.loads(json.dumps(fold(PERSON, journal).to_json())))


@settings(max_examples=400, deadline=None)
@given(_histories())
def test_folding_new_facts_onto_the_stored_state_equals_the_full_fold(
    history: tuple[list[Fact], list[Fact]],
) -> None:
    journal, new = history
    stored = _stored(journal)
    assert stored == fold(PERSON, journal)  # the projection's JSON keeps the whole state
    assert can_fold_onto(stored, new)
    folded, full = fold_onto(stored, new), fold(PERSON, journal + new)
    assert folded == full
    # Entries read from the stored document write it back: the projection is the same.
    assert folded.to_json() == full.to_json()


def test_a_superseding_retracting_or_earlier_recorded_fact_needs_the_whole_journal() -> None:
    first = _fact(FactKind.identity, {"surname": "Коваль"}, 1, utc(2024, 1, 2), None, None, None)
    stored = _stored([first])
    correction = _fact(FactKind.identity, {"surname": "Бондар"}, 2, utc(2024, 1, 3), None, None,
                       first.id)  # fmt: skip
    retraction = _fact(FactKind.retraction, {}, 2, utc(2024, 1, 3), None, None, first.id)
    earlier = _fact(FactKind.death, {"date_of_death": "2023-01-01"}, 2, utc(2024, 1, 1), None,
                    None, None)  # fmt: skip
    reused_seq = _fact(FactKind.death, {"date_of_death": "2023-01-01"}, 1, utc(2024, 1, 3),
                       None, None, None)  # fmt: skip
    for facts in ([correction], [retraction], [earlier], [reused_seq]):
        assert not can_fold_onto(stored, facts)
        with pytest.raises(ValueError):
            fold_onto(stored, facts)
