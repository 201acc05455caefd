from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import uuid

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from oberih.audit.events import (
    CONTENT_COLUMNS,
    MAX_FIELD_NAME,
    MAX_LENGTHS,
    AuditEvent,
    InvalidAuditEvent,
    _require_text,
    canonical_event_bytes,
    columns_leaf_hash,
    event_leaf_hash,
)
from tests.unit.audit.factories import PERSON, audit_event

RECORDED_AT = dt.datetime(2026, 1, 2, 3, 4, 5, 678900, tzinfo=dt.UTC)
EXPECTED = (
    b'{"action":"person:record:read","actor":"tcc_officer:officer-1","classified_until":null,'
    b'"fields":["surname","birth_date"],"office_code":"TCC-UA46-03","outcome":"allowed",'
    b'"person_id":"00000000-0000-4000-8000-000000000001","purpose":"case 2026/17",'
    b'"recorded_at":"2026-01-02T03:04:05.678900Z","request_id":"req-1","role":"tcc_officer",'
    b'"v":1}'
)


def test_canonical_bytes_are_sorted_compact_json() -> None:
    assert canonical_event_bytes(audit_event(1), recorded_at=RECORDED_AT) == EXPECTED


def test_leaf_hash_is_rfc6962_leaf_of_the_canonical_bytes() -> None:
    expected = hashlib.sha256(b"\x00" + EXPECTED).digest()
    assert event_leaf_hash(audit_event(1), recorded_at=RECORDED_AT) == expected


def test_moment_is_normalised_to_utc() -> None:
    kyiv = dt.timezone(dt.timedelta(hours=2))
    same_moment = RECORDED_AT.astimezone(kyiv)
    assert canonical_event_bytes(audit_event(1), recorded_at=same_moment) == EXPECTED


def test_naive_moment_is_refused() -> None:
    with pytest.raises(InvalidAuditEvent, match="timezone"):
        canonical_event_bytes(audit_event(1), recorded_at=dt.datetime(2026, 1, 1))


def test_whole_seconds_keep_six_fraction_digits() -> None:
    data = canonical_event_bytes(audit_event(), recorded_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    assert b'"recorded_at":"2026-01-01T00:00:00.000000Z"' in data


def test_non_ascii_text_is_plain_utf8_and_dates_are_iso() -> None:
    event = audit_event(purpose="справа 17", classified_until=dt.date(2027, 3, 1))
    data = canonical_event_bytes(event, recorded_at=RECORDED_AT)
    assert "справа 17".encode() in data
    assert b'"classified_until":"2027-03-01"' in data


def test_any_field_changes_the_leaf() -> None:
    base = event_leaf_hash(audit_event(1), recorded_at=RECORDED_AT)
    variants = [
        audit_event(2),
        audit_event(1, outcome="denied"),
        audit_event(1, person_id=None),
        audit_event(1, office_code=None),
        audit_event(1, classified_until=dt.date(2030, 1, 1)),
    ]
    for variant in variants:
        assert event_leaf_hash(variant, recorded_at=RECORDED_AT) != base
    later = RECORDED_AT + dt.timedelta(microseconds=1)
    assert event_leaf_hash(audit_event(1), recorded_at=later) != base


def test_fields_list_becomes_a_tuple() -> None:
    event = AuditEvent(
        action="person:search",
        outcome="allowed",
        actor="a",
        role="auditor",
        office_code=None,
        purpose=None,
        person_id=None,
        fields=["surname"],  # type: ignore[arg-type]
        request_id=None,
    )
    assert event.fields == ("surname",)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"outcome": "maybe"}, "outcome"),
        ({"action": ""}, "must not be empty"),
        ({"actor": "x" * 161}, "actor is longer"),
        ({"purpose": "line\nbreak"}, "control character"),
        ({"fields": ("x" * 65,)}, "fields is longer"),
        ({"fields": tuple(f"f{n}" for n in range(65))}, "at most"),
        ({"person_id": "not-a-uuid"}, "UUID"),
    ],
)
def test_invalid_events_are_refused(changes: dict[str, object], message: str) -> None:
    values: dict[str, object] = {
        "action": "person:record:read",
        "outcome": "allowed",
        "actor": "tcc_officer:1",
        "role": "tcc_officer",
        "office_code": None,
        "purpose": None,
        "person_id": PERSON,
        "fields": (),
        "request_id": None,
    }
    values.update(changes)
    with pytest.raises(InvalidAuditEvent, match=message):
        AuditEvent(**values)  # type: ignore[arg-type]


@given(
    purpose=st.text(
        alphabet=st.characters(blacklist_categories=("Cc", "Cs")), min_size=0, max_size=300
    ),
    fields=st.lists(st.text(alphabet="abcdefghij_.", min_size=1, max_size=20), max_size=5),
    person=st.uuids(),
)
def test_canonical_bytes_round_trip_through_any_json_parser(
    purpose: str, fields: list[str], person: uuid.UUID
) -> None:
    event = audit_event(purpose=purpose, person_id=person)
    event = AuditEvent(**{**event.__dict__, "fields": tuple(fields)})
    data = canonical_event_bytes(event, recorded_at=RECORDED_AT)
    document = json.loads(data)
    assert document["purpose"] == purpose
    assert document["fields"] == fields
    # Re-serialising the parsed document canonically gives the same bytes (JCS is idempotent).
    again = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert again.encode() == data


_TEXT_VALUES = st.one_of(
    st.none(),
    st.text(max_size=320),  # control characters and lengths over every limit included
    st.integers(),
    st.binary(max_size=4),
)


def _checked_field_by_field(values: dict[str, object]) -> str | None:
    """The text rules applied one column at a time (``events._require_text``): the message of
    the first broken one, None if all hold."""
    try:
        for name, limit in MAX_LENGTHS.items():
            _require_text(name, values[name], limit)
        for field_name in values["fields"]:  # type: ignore[attr-defined]
            _require_text("fields", field_name, MAX_FIELD_NAME)
    except InvalidAuditEvent as problem:
        return str(problem)
    return None


# Found by hypothesis once: empty bytes are as falsy as None, and must still be refused.
@example(texts=dict.fromkeys(MAX_LENGTHS) | {"purpose": b""}, fields=[])
@example(texts=dict.fromkeys(MAX_LENGTHS) | {"request_id": b""}, fields=[])
@example(texts=dict.fromkeys(MAX_LENGTHS) | {"office_code": "\x00"}, fields=["a\n"])
@given(
    texts=st.fixed_dictionaries({name: _TEXT_VALUES for name in MAX_LENGTHS}),
    fields=st.lists(st.one_of(st.text(max_size=70), st.integers()), max_size=4),
)
def test_the_one_pass_text_check_accepts_what_the_field_checks_accept(
    texts: dict[str, object], fields: list[object]
) -> None:
    values: dict[str, object] = {
        "outcome": "allowed",
        "person_id": PERSON,
        **texts,
        "fields": tuple(fields),
    }
    # Non-empty where emptiness is refused, so that only the text rules decide.
    for name in ("action", "actor", "role"):
        if not values[name]:
            values[name] = "x"
    expected = _checked_field_by_field(values)
    if expected is None:
        AuditEvent(**values)  # type: ignore[arg-type]
    else:
        with pytest.raises(InvalidAuditEvent) as refused:
            AuditEvent(**values)  # type: ignore[arg-type]
        assert str(refused.value) == expected


def _text(limit: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), max_size=limit)


# Columns as an event stores them, every rule kept (non-ASCII, offsets, microseconds) ...
_VALID_COLUMNS = st.fixed_dictionaries(
    {
        "recorded_at": st.datetimes(
            min_value=dt.datetime(2000, 1, 1),
            timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=2))]),
        ),
        "action": _text(MAX_LENGTHS["action"]).filter(bool),
        "outcome": st.sampled_from(["allowed", "denied", "error"]),
        "actor": _text(MAX_LENGTHS["actor"]).filter(bool),
        "role": _text(MAX_LENGTHS["role"]).filter(bool),
        "office_code": st.one_of(st.none(), _text(MAX_LENGTHS["office_code"])),
        "purpose": st.one_of(st.none(), _text(MAX_LENGTHS["purpose"])),
        "person_id": st.one_of(st.none(), st.uuids()),
        "fields": st.lists(_text(MAX_FIELD_NAME), max_size=5),
        "request_id": st.one_of(st.none(), _text(MAX_LENGTHS["request_id"])),
        "classified_until": st.one_of(st.none(), st.dates()),
    }
)
# ... and as a damaged row may hold them: any rule broken, or several.
_STORED_COLUMNS = st.one_of(
    _VALID_COLUMNS,
    st.fixed_dictionaries(
        {
            "recorded_at": st.datetimes(timezones=st.just(dt.UTC)),
            "action": _TEXT_VALUES,
            "outcome": st.sampled_from(["allowed", "granted", ""]),
            "actor": st.one_of(st.just("tcc_officer:officer-1"), _TEXT_VALUES),
            "role": st.one_of(st.just("tcc_officer"), _TEXT_VALUES),
            "office_code": _TEXT_VALUES,
            "purpose": st.one_of(st.none(), st.text(max_size=310)),
            "person_id": st.one_of(st.none(), st.uuids(), st.just("not-a-uuid")),
            "fields": st.one_of(
                st.lists(st.text(max_size=70), max_size=66), st.lists(st.integers(), max_size=2)
            ),
            "request_id": st.one_of(st.none(), st.text(max_size=70)),
            "classified_until": st.one_of(st.none(), st.dates()),
        }
    ),
)


@example(
    columns={
        "recorded_at": RECORDED_AT,
        **{name: value for name, value in audit_event(1).__dict__.items() if name != "fields"},
        "fields": ["surname", "birth_date"],
    }
)
@given(columns=_STORED_COLUMNS)
def test_a_stored_rows_leaf_hash_is_its_events(columns: dict[str, object]) -> None:
    """The sequencer and ``oberih audit verify`` hash stored columns without building the
    event (``columns_leaf_hash``): the same hash as the event's, or the same refusal."""
    row = [columns[name] for name in CONTENT_COLUMNS]
    try:
        expected: bytes | str = event_leaf_hash(
            AuditEvent(*row[1:]),  # type: ignore[arg-type]
            recorded_at=columns["recorded_at"],  # type: ignore[arg-type]
        )
    except InvalidAuditEvent as refused:
        expected = str(refused)
    try:
        computed: bytes | str = columns_leaf_hash(row)
    except InvalidAuditEvent as refused:
        computed = str(refused)
    assert computed == expected


def test_stored_columns_follow_the_events_fields_in_order() -> None:
    """Stored rows become events positionally (``event_from_columns``, ``columns_leaf_hash``)."""
    assert [field.name for field in dataclasses.fields(AuditEvent)] == list(CONTENT_COLUMNS[1:])
