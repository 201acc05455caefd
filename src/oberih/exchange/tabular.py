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
    """(row number in the file, the row as a JSON message) for every non-empty row."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        return []
    for column in header:
        if not column or column.count(".") > 1:
            raise InvalidCsv(f"column {column!r}: name a message field, e.g. payload.group")
    # A field is either one cell or a group of dotted cells: ``subject`` beside
    # ``subject.surname`` (or a column twice) would spell two values for one place.
    groups = {column.partition(".")[0] for column in header if "." in column}
    for column in header:
        if column in groups or header.count(column) > 1:
            raise InvalidCsv(f"column {column!r}: named twice, or beside fields of its own")
    records = []
    for number, row in enumerate(reader, 2):
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
    return message
