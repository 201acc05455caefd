"""An officer's rejection of an identity review's candidates, and its hold on the record.

An officer who finds that the record's subject is none of a review's candidates leaves the
record quarantined as unmatched (``services.decide_review``), and like every unmatched record it
is tried again after later births (``services.Processor._retry_unmatched``): the person it is
about may not be registered yet. Each retry leaves out the persons the officer rejected
(``Resolver.resolve``): offered again, they made the same review for the same officer after
every birth, and scored above the link threshold they would be linked against the officer's
word. Anyone else is still found: a person registered since, the holder of an identifier the
record carries.

The rejection is read back from the officer's decision (``exchange_link_decision``, outcome
``reject``, naming its review) and the candidates of the review it closed. It holds for the
record as the officer saw it: a record an operator corrects since is a new question (the
decision keeps the hash of the content the officer judged); one replayed as it is is not.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from oberih.db.queries import among, pairs_in
from oberih.exchange.models import LinkDecision, MatchReview
from oberih.exchange.outcomes import AnyRecord

REJECT = "reject"  # the outcome of an officer's rejection (``LinkDecision.outcome``)

RecordKey = tuple[uuid.UUID, int]  # batch id, position


@dataclass(frozen=True, slots=True)
class Rejection:
    """An officer's rejection of every candidate of one review of a record."""

    review_id: uuid.UUID
    decided_at: dt.datetime | None
    decided_by: str | None
    persons: frozenset[uuid.UUID]


def officer_decision_fields(review_id: uuid.UUID, content_hash: str) -> dict[str, str]:
    """The ``fields`` of an officer's decision of a review: the review, and the hash of the
    record's content judged (``rejections``)."""
    return {"review_id": str(review_id), "content_hash": content_hash}


def rejections(session: Session, records: Sequence[AnyRecord]) -> dict[RecordKey, list[Rejection]]:
    """The rejections that hold for ``records`` (content not corrected since), oldest first;
    records without one are left out. Two statements, both by index, for any number of
    records."""
    judged = {(record.batch_id, record.position): record.content_hash for record in records}
    if not judged:
        return {}
    dialect = session.get_bind().dialect.name
    decided = session.execute(
        select(LinkDecision.batch_id, LinkDecision.position, LinkDecision.fields).where(
            pairs_in(LinkDecision.batch_id, LinkDecision.position, list(judged), dialect=dialect),
            LinkDecision.outcome == REJECT,
        )
    ).all()
    of_review: dict[uuid.UUID, RecordKey] = {}
    for batch_id, position, fields in decided:
        # A rejection recorded before decisions kept the content's hash holds as well.
        seen = fields.get("content_hash")
        if seen is None or seen == judged[(batch_id, position)]:
            of_review[uuid.UUID(fields["review_id"])] = (batch_id, position)
    if not of_review:
        return {}
    reviews = session.scalars(
        select(MatchReview)
        .where(among(MatchReview.id, sorted(of_review), dialect=dialect))
        .order_by(MatchReview.decided_at, MatchReview.id)
    )
    found: dict[RecordKey, list[Rejection]] = defaultdict(list)
    for review in reviews:
        persons = frozenset(uuid.UUID(candidate["person_id"]) for candidate in review.candidates)
        found[of_review[review.id]].append(
            Rejection(review.id, review.decided_at, review.decided_by, persons)
        )
    return dict(found)


def rejected_persons(found: Iterable[Rejection]) -> frozenset[uuid.UUID]:
    """Every person an officer rejected in ``found``."""
    return frozenset(person for rejection in found for person in rejection.persons)
