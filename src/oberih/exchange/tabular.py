"""CSV batches, for the registers that send CSV (employers' reservation lists, for one).

The header names each column by its place in the message, dotted: ``source_record_id``,
``recorded_at``, ``message_type``, ``subject.rnokpp``, ``subject.surname``,
``payload.employer_code``, ... Each row becomes the JSON message it spells (empty cells are
left out), and is then validated like any JSON Lines record. The signature covers the CSV
bytes as sent.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any


class InvalidCsv(ValueError):
    pass


def csv_records(text: str) -> list[tuple[int, str]]:
    """(the file's line the row starts on, the row as a JSON message) for every non-empty
    row."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        return []
    for column in header:
        if not column or column.count(".") > 1:
            raise InvalidCsv(f"column {column!r}: name a message field, e.g. payload.group")
    # One field in two columns, or a part both a field and a group of fields ("subject" and
    # "subject.surname"): one cell would silently replace the other, or could not be placed.
    groups = {column.partition(".")[0] for column in header if "." in column}
    for column in header:
        if header.count(column) > 1:
            raise InvalidCsv(f"column {column!r}: named twice in the header")
        if column in groups:
            raise InvalidCsv(f"column {column!r}: also a group of the other columns")
    records = []
    # Numbered by the file's line the row starts on, as JSON Lines records are: a quoted cell
    # that spans lines (an address with its line breaks) would otherwise shift every later
    # number away from the line an operator opens the file at.
    starts = reader.line_num + 1
    for row in reader:
        number, starts = starts, reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue
        records.append((number, json.dumps(_message(header, row), ensure_ascii=False)))
    return records


def _message(header: list[str], row: list[str]) -> dict[str, Any]:
    message: dict[str, Any] = {}
    for column, cell in zip(header, row, strict=False):
        if not cell.strip():
            continue
        part, _, name = column.partition(".")
        if name:
            message.setdefault(part, {})[name] = cell.strip()
        else:
            message[part] = cell.strip()
    # Cells beyond the header (an unquoted comma in a name, most often) are kept under their
    # column's number, which no message has: the row is quarantined saying so, not applied
    # with those cells silently dropped.
    for number, cell in enumerate(row[len(header) :], len(header) + 1):
        if cell.strip():
            message[f"column {number}"] = cell.strip()
    return message
