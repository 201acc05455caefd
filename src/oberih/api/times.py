"""Times in the API's answers: always with their offset.

SQLite hands back the register's times (all UTC) without one, PostgreSQL with one: a client
parsing ``received_at`` must not get a local time on one engine and UTC on the other.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator


def as_utc(moment: dt.datetime) -> dt.datetime:
    """``moment`` with its offset; without one, it is UTC (everything the register stores)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


UtcDatetime = Annotated[dt.datetime, AfterValidator(as_utc)]
