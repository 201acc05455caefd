"""Cursor pagination shared by the API's lists (issue 3: "pagination by cursor on every list").

A cursor is opaque to clients: URL-safe base64 of what the list needs to resume. Keyset lists
(``keyset_cursor``) carry the sort key of the last item of a page, so a page is one index range
scan however deep the client goes, and rows added or ended meanwhile neither repeat nor hide
others, as an offset would make them do.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Generic, TypeVar

import orjson
from fastapi import Query
from pydantic import BaseModel

from oberih.api.problems import ApiProblem

T = TypeVar("T")
R = TypeVar("R")

Cursor = Annotated[
    str | None,
    Query(
        min_length=4,
        max_length=200,
        pattern=r"^[A-Za-z0-9_-]+={0,2}$",
        description="Opaque: the `next_cursor` of the previous page.",
    ),
]


class Page(BaseModel, Generic[T]):
    """A page of a list; ``next_cursor`` is opaque and absent on the last page."""

    items: list[T]
    next_cursor: str | None = None


def invalid_cursor() -> ApiProblem:
    return ApiProblem(
        422,
        "validation",
        "The cursor is not valid",
        errors=[("cursor", "not a cursor this service issued")],
    )


def keyset_cursor(key: Sequence[Any]) -> str:
    """The cursor after an item whose sort key is ``key`` (what orjson writes: str, int,
    datetime and UUID as ISO 8601 and hex text, which the list's parser reads back)."""
    return base64.urlsafe_b64encode(orjson.dumps(list(key))).decode()


def keyset_page(
    rows: Sequence[R], limit: int, key: Callable[[R], Sequence[Any]]
) -> tuple[Sequence[R], str | None]:
    """A page of ``rows`` read with a limit of ``limit + 1``, and the cursor after it (None on
    the last page, which is the one without an extra row)."""
    page = rows[:limit]
    return page, keyset_cursor(key(page[-1])) if len(rows) > limit else None


def keyset_after(cursor: str | None, parse: Callable[[list[Any]], T]) -> T | None:
    """The sort key a ``keyset_cursor`` carries, read by ``parse`` (which raises ``ValueError``
    or ``TypeError`` for a key it cannot use); a 422 problem for anything else."""
    if cursor is None:
        return None
    try:
        key = orjson.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not isinstance(key, list):
            raise TypeError("not a key")
        return parse(key)
    except (ValueError, TypeError, binascii.Error):
        raise invalid_cursor() from None
