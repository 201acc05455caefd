"""PostgreSQL's COPY text format, written here rather than adapted value by value.

Building one buffer per table is several times cheaper than adapting each value through the
driver, and COPY streams it as one statement: the bulk load and intake write most of their
rows this way.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

import orjson

NULL = "\\N"
BACKSLASH = "\\"
DOUBLE_BACKSLASH = "\\\\"
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_rows(
    cursor: Any, table: str, columns: Sequence[str], rows: Sequence[dict[str, Any]]
) -> None:
    """COPY ``rows`` (their ``columns``) into ``table`` on a psycopg cursor."""
    if not rows:
        return
    buffer = "".join(
        "\t".join([copy_field(row[column]) for column in columns]) + "\n" for row in rows
    )
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        copy.write(buffer.encode())


def text_field(value: str) -> str:
    return value.translate(_ESCAPES) if _needs_escape(value) else value


def copy_field(value: Any) -> str:
    """One value in COPY text format (``\\N`` is NULL; backslash, tab and newlines escaped)."""
    if value is None:
        return NULL
    if isinstance(value, str):
        return value.translate(_ESCAPES) if _needs_escape(value) else value
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (int, uuid.UUID)):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, bytes):  # bytea in hex form, its backslash escaped for COPY
        return "\\\\x" + value.hex()
    # JSON documents (and floats): orjson escapes control characters inside strings, so only
    # the backslashes of its own escapes need doubling for COPY.
    return orjson.dumps(value).decode().replace(BACKSLASH, DOUBLE_BACKSLASH)


def _needs_escape(value: str) -> bool:
    return "\\" in value or "\t" in value or "\n" in value or "\r" in value
