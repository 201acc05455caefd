"""``oberih dedup``: probable duplicate persons already in the register, queued for review.

Each person is blocked and scored against the others exactly as an incoming record is
(``Resolver``); a pair scoring from the review threshold up is queued once (smaller id first).
A person a merge in force absorbed is left out: their facts are the survivor's now, and the
register refuses to merge them again. Nothing is merged automatically (ARCHITECTURE decision 5).

A merge queues pairs too, in place of the absorbed person's open ones (``exchange.merge``),
scored here as this command scores them (``PairScorer``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from oberih.exchange.matching import NameFrequencies, Profile, Score, score
from oberih.exchange.models import DuplicateCandidate, PersonMerge
from oberih.exchange.resolution import Resolver, stored_profile
from oberih.persons.services import iter_person_ids


@dataclass
class DedupReport:
    persons: int = 0
    queued: int = 0


def find_duplicates(session: Session, *, resolver: Resolver, now: dt.datetime) -> DedupReport:
    report = DedupReport()
    known = {
        (row.person_id, row.other_person_id) for row in session.scalars(select(DuplicateCandidate))
    }
    absorbed = set(
        session.scalars(select(PersonMerge.absorbed_id).where(PersonMerge.undone_at.is_(None)))
    )
    scorer = PairScorer(session, resolver)
    for person_ids in iter_person_ids(session):
        for person_id in person_ids:
            report.persons += 1
            if person_id in absorbed:
                continue
            profile = stored_profile(session, person_id)
            if profile is None or not (profile.surname and profile.given_name):
                continue
            for other_id, other in resolver.candidates(session, profile):
                pair = ordered_pair(person_id, other_id)
                if other_id == person_id or other_id in absorbed or pair in known:
                    continue
                result = scorer.score(profile, other)
                if result.total < resolver.thresholds.review:
                    continue
                known.add(pair)
                report.queued += 1
                session.add(new_pair(pair, result, now=now))
        session.flush()
    return report


class PairScorer:
    """Two persons' match weight as ``oberih dedup`` weighs it: the first as the record, the
    other as the stored person, with the register's name frequencies (read at the first pair
    scored: a merge that queues no pair reads none)."""

    def __init__(self, session: Session, resolver: Resolver | None = None) -> None:
        self._session = session
        self._resolver = resolver or Resolver()
        self._frequencies: NameFrequencies | None = None

    def score(self, profile: Profile, other: Profile) -> Score:
        if self._frequencies is None:
            self._frequencies = self._resolver.dictionary(self._session).frequencies()
        return score(profile, other, self._frequencies)

    def score_stored(self, person_id: uuid.UUID, other_id: uuid.UUID) -> Score | None:
        """Two stored persons, the smaller id as the record, as ``find_duplicates`` reading
        the persons in id order would score them; None when either has no identifying fields."""
        first, second = ordered_pair(person_id, other_id)
        profile, other = stored_profile(self._session, first), stored_profile(self._session, second)
        if profile is None or other is None:
            return None
        return self.score(profile, other)


def new_pair(
    persons: tuple[uuid.UUID, uuid.UUID],
    result: Score,
    *,
    now: dt.datetime,
    queued_by_merge_id: uuid.UUID | None = None,
) -> DuplicateCandidate:
    """An open pair of two persons (smaller id first) with its score, and each field's weight
    and the level that gave it, as the officer sees them side by side."""
    first, second = ordered_pair(*persons)
    return DuplicateCandidate(
        id=uuid.uuid4(),
        person_id=first,
        other_person_id=second,
        score=result.total,
        fields={**result.weights, "levels": result.fields},
        status="open",
        found_at=now,
        queued_by_merge_id=queued_by_merge_id,
    )


def ordered_pair(one: uuid.UUID, other: uuid.UUID) -> tuple[uuid.UUID, uuid.UUID]:
    """Two persons as a pair stores them: the smaller id first."""
    return (one, other) if one < other else (other, one)
