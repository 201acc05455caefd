"""The outbox table and the mapper hook that fills it.

Every ``FactRow`` inserted through the ORM adds a ``change_event`` row on the same connection,
in the same transaction (``after_insert``; bulk appends call ``record_changes``): a rolled-back
append leaves no event, a committed one always has its event. Bulk loads by COPY (the initial load) bypass the ORM and emit no events:
they are not changes a downstream system follows.

Ordering: on PostgreSQL each event carries its transaction id; readers order by (txid, id) and
return only events of transactions older than every transaction still running
(``pg_snapshot_xmin``), so an event can never appear behind a cursor already handed out. SQLite
has one writer at a time, so the id alone orders commits (txid 0).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import BigInteger, DateTime, Index, Integer, String, Uuid, event, insert, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Mapper, mapped_column

from oberih.db.base import Base
from oberih.persons.facts import Fact
from oberih.persons.models import FactRow

ID = BigInteger().with_variant(Integer(), "sqlite")


class ChangeEvent(Base):
    __tablename__ = "change_event"
    __table_args__ = (Index("ix_change_event_txid_id", "txid", "id"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    txid: Mapped[int] = mapped_column(BigInteger)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    kind: Mapped[str] = mapped_column(String(32))  # the fact kind: death, address, deferral, ...
    source: Mapped[str] = mapped_column(String(32))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


CURRENT_TXID = text("pg_current_xact_id()::text::bigint")
CHANGE_COLUMNS = ("txid", "person_id", "kind", "source", "recorded_at")


@event.listens_for(FactRow, "after_insert")
def _outbox(_mapper: Mapper[Any], connection: Connection, fact: FactRow) -> None:
    record_changes(connection, [fact])


def record_changes(connection: Connection, facts: Sequence[FactRow | Fact]) -> None:
    """The change events of facts inserted on ``connection``: the ORM hook above calls it for
    each row; bulk appends (``persons.batch``), which insert facts by Core, call it themselves."""
    if not facts:
        return
    txid: Any = CURRENT_TXID if connection.dialect.name == "postgresql" else 0
    connection.execute(
        insert(ChangeEvent).values(txid=txid),  # inline: the same expression for every row
        [
            {
                "person_id": fact.person_id,
                "kind": fact.kind,
                "source": fact.source,
                "recorded_at": fact.recorded_at,
            }
            for fact in facts
        ],
    )
