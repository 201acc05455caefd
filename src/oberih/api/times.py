"""Times in the API's answers: always with their offset.

SQLite hands back the register's times (all UTC) without one, PostgreSQL with one: a client
parsing ``received_at`` must not get a local time on one engine and UTC on the other.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator

from oberih.audit.events import as_utc

UtcDatetime = Annotated[dt.datetime, AfterValidator(as_utc)]
