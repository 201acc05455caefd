"""CSV batches: dotted headers spell the message."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

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


def test_a_row_is_numbered_by_the_line_it_starts_on() -> None:
    # A quoted cell may hold line breaks; the operator opens the file at the number given.
    text = (
        "source_record_id,subject.surname,payload.institution_name\n"
        'e-1,Коваленко,"Ліцей\r\nвул. Шкільна, 1\n"\n'
        "\n"
        "e-2,Бондар,Ліцей\n"
    )
    records = csv_records(text)
    assert [number for number, _ in records] == [2, 6]
    assert json.loads(records[0][1])["payload"]["institution_name"] == "Ліцей\r\nвул. Шкільна, 1"


def test_a_column_must_name_a_message_field() -> None:
    with pytest.raises(InvalidCsv):
        csv_records("a.b.c\n1\n")


@pytest.mark.parametrize(
    ("header", "says"),
    [
        ("source_record_id,payload.group,payload.group", "column 'payload.group': named twice"),
        ("subject,subject.surname", "column 'subject': also a group of the other columns"),
        ("subject.surname,subject", "column 'subject': also a group of the other columns"),
    ],
)
def test_a_header_names_each_field_once(header: str, says: str) -> None:
    # Else one cell would silently replace another, or could not be placed at all.
    with pytest.raises(InvalidCsv, match=says):
        csv_records(f"{header}\n1,2,3\n")


def test_cells_beyond_the_header_are_kept_for_the_quarantine() -> None:
    # An unquoted comma in a name: the row must not be applied with its last cells dropped.
    [(_, line)] = csv_records("source_record_id,subject.surname\ne-1,Коваленко,ТОВ Ромашка,,x\n")
    document = json.loads(line)
    assert document == {
        "source_record_id": "e-1",
        "subject": {"surname": "Коваленко"},
        "column 3": "ТОВ Ромашка",
        "column 5": "x",
    }
    with pytest.raises(ValidationError, match="column 3"):
        parse_message(Source.employer, document)
