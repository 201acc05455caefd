"""``oberih dedup``: probable duplicate persons already in the register, queued for review.

Each person is blocked and scored against the others exactly as an incoming record is
(``Resolver``); a pair scoring from the review threshold up is queued once (smaller id first).
Nothing is merged automatically (ARCHITECTURE decision 5).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from oberih.exchange.matching import score
from oberih.exchange.models import DuplicateCandidate
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
    frequencies = resolver.dictionary(session).frequencies()
    for person_ids in iter_person_ids(session):
        for person_id in person_ids:
            report.persons += 1
            profile = stored_profile(session, person_id)
            if profile is None or not (profile.surname and profile.given_name):
                continue
            for other_id, other in resolver.candidates(session, profile):
                pair = (min(person_id, other_id), max(person_id, other_id))
                if other_id == person_id or pair in known:
                    continue
                result = score(profile, other, frequencies)
                if result.total < resolver.thresholds.review:
                    continue
                known.add(pair)
                report.queued += 1
                session.add(
                    DuplicateCandidate(
                        id=uuid.uuid4(),
                        person_id=pair[0],
                        other_person_id=pair[1],
                        score=result.total,
                        fields={**result.weights, "levels": result.fields},
                        status="open",
                        found_at=now,
                    )
                )
        session.flush()
    return report
