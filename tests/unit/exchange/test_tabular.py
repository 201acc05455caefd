"""CSV batches: dotted headers spell the message."""

from __future__ import annotations

import json

import pytest

from oberih.exchange.messages import Source, parse_message
from oberih.exchange.tabular import InvalidCsv, csv_records

CSV = (
    "source_record_id,recorded_at,message_type,subject.rnokpp,subject.surname,"
    "payload.employer_code,payload.reserved_from,payload.reserved_until\n"
    "e-1,2026-11-01T10:00:00Z,reservation,3294600038,Коваленко,00000017,2026-01-01,\n"
    ",,,,,,,\n"
    "e-2,2026-11-01T10:00:00Z,reservation,3294600038,Коваленко,00000017,2026-01-01,2026-06-30\n"
)


def test_rows_become_messages() -> None:
    records = csv_records(CSV)
    assert [number for number, _ in records] == [2, 4]
    first = json.loads(records[0][1])
    assert "reserved_until" not in first["payload"]
    message = parse_message(Source.employer, first)
    assert message.subject.rnokpp == "3294600038"


def test_a_column_must_name_a_message_field() -> None:
    with pytest.raises(InvalidCsv):
        csv_records("a.b.c\n1\n")
