"""An officer's review of the probable duplicates ``oberih dedup`` queued: list the open pairs,
show the two persons side by side with the score and the fields that drove it, then merge the
pair (the persons are one: ``merge.merge_persons``, the pair confirmed) or reject it (two
persons). Nothing is merged without an officer (ARCHITECTURE decision 5).

A merge that absorbs one person of an open pair into a third answers that pair too: it is
superseded, and the survivor's pair with the other person queued in its place (``merge``).

Exceptions: ``DuplicateNotFound`` for an unknown pair (or one withdrawn: queued by a merge since
undone); ``DuplicateClosed`` when the pair is already decided or superseded; ``NotOfThePair`` when the survivor chosen is neither of its two persons. A merge
the register refuses raises ``merge.MergeNotAllowed``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from oberih.exchange.matching import Profile
from oberih.exchange.merge import merge_persons
from oberih.exchange.models import DuplicateCandidate, PersonMerge
from oberih.exchange.resolution import stored_profile
from oberih.exchange.services import rows_after

DuplicateKey = tuple[dt.datetime, uuid.UUID]  # found_at, id


class DuplicateNotFound(LookupError):
    pass


class DuplicateClosed(Exception):
    title = "this duplicate pair is already decided"

    def __init__(self, pair: DuplicateCandidate | None = None) -> None:
        # A pair superseded was decided by no officer: the one who opened it is told by what.
        self.detail = (
            f"superseded by merge {pair.merge_id}: decide the survivor's pair instead"
            if pair is not None and pair.status == "superseded"
            else None
        )
        super().__init__(f"{self.title}: {self.detail}" if self.detail else self.title)


class NotOfThePair(Exception):
    def __init__(self, person_id: uuid.UUID) -> None:
        super().__init__(f"person {person_id} is not one of this pair")


@dataclass(frozen=True, slots=True)
class SideBySide:
    """A pair as the officer judges it: both persons' identifying fields as stored, the score
    and, per field, the level it reached and the weight that level gave."""

    pair: DuplicateCandidate
    person: Profile | None
    other: Profile | None
    # The merge that confirmed or superseded the pair (undone, if the pair is open again).
    merge: PersonMerge | None

    @property
    def levels(self) -> dict[str, str]:
        levels: dict[str, str] = self.pair.fields.get("levels", {})
        return levels

    @property
    def weights(self) -> dict[str, float]:
        return {name: w for name, w in self.pair.fields.items() if name != "levels"}


def open_duplicates(
    session: Session, *, limit: int = 100, after: DuplicateKey | None = None
) -> list[DuplicateCandidate]:
    """Open pairs, oldest first; ``after`` the ``duplicate_key`` of the last one a page showed."""
    order = (DuplicateCandidate.found_at, DuplicateCandidate.id)
    query = select(DuplicateCandidate).where(DuplicateCandidate.status == "open")
    if after is not None:
        query = query.where(rows_after(order, after))
    return list(session.scalars(query.order_by(*order).limit(limit)))


def duplicate_key(pair: DuplicateCandidate) -> DuplicateKey:
    return pair.found_at, pair.id


def get_duplicate(
    session: Session, pair_id: uuid.UUID, *, lock: bool = False
) -> DuplicateCandidate:
    pair = session.get(DuplicateCandidate, pair_id, with_for_update=lock)
    if pair is None:
        raise DuplicateNotFound(str(pair_id))
    return pair


def side_by_side(session: Session, pair: DuplicateCandidate) -> SideBySide:
    merge = session.get(PersonMerge, pair.merge_id) if pair.merge_id else None
    return SideBySide(
        pair=pair,
        person=stored_profile(session, pair.person_id),
        other=stored_profile(session, pair.other_person_id),
        merge=merge,
    )


def merge_duplicate(
    session: Session,
    *,
    pair_id: uuid.UUID,
    survivor_id: uuid.UUID,
    actor: str,
    now: dt.datetime,
) -> PersonMerge:
    """The two persons are one: the other is merged into ``survivor_id`` (one of the two, the
    officer's choice), and the pair is confirmed with the merge (``merge._confirm_pair``).
    Both persons' determinations follow their new facts, in this transaction (``merge``)."""
    pair = _open_pair(session, pair_id)
    persons = (pair.person_id, pair.other_person_id)
    # Only the two persons shown side by side: a mistyped or pasted id of anyone else would
    # take a third person's facts, or give them, and close the pair.
    if survivor_id not in persons:
        raise NotOfThePair(survivor_id)
    absorbed_id = persons[1] if survivor_id == persons[0] else persons[0]
    return merge_persons(
        session, survivor_id=survivor_id, absorbed_id=absorbed_id, actor=actor, now=now
    )


def reject_duplicate(
    session: Session, *, pair_id: uuid.UUID, actor: str, now: dt.datetime
) -> DuplicateCandidate:
    """The two persons are not one: the pair is closed, and ``oberih dedup`` does not queue it
    again (it skips every pair it has queued)."""
    pair = _open_pair(session, pair_id)
    pair.status = "rejected"
    pair.decided_at = now
    pair.decided_by = actor
    session.flush()
    return pair


def _open_pair(session: Session, pair_id: uuid.UUID) -> DuplicateCandidate:
    # Locked: of two officers deciding one pair at once, the second waits, then finds it
    # decided (unlocked, both merges could run, the second in the other direction).
    pair = get_duplicate(session, pair_id, lock=True)
    if pair.status != "open":
        raise DuplicateClosed(pair)
    return pair
