"""Merging two persons found to be one, and undoing the merge, without losing a fact.

Merge: the absorbed person's active identifiers are released (invalidated by new facts on the
absorbed person, dated from the merge's day), then every fact of the absorbed person that still counts, except their
identity, is copied onto the survivor (new facts of source "register", record id
``merge:<merge id>:<original fact id>``; facts superseded or retracted are not copied, they
remain in the absorbed journal), and the identifiers are copied active. The survivor's own identity stays; the absorbed identity remains in the absorbed
person's journal as history. Undo: every fact the merge wrote is retracted, the copies on the
survivor and the releases on the absorbed person, so both fold again as before the merge. Both
persons' journals keep everything.

A pair ``oberih dedup`` queued for these two persons follows: a merge confirms it, its undoing
reopens it (``_confirm_pair``, ``_reopen_pair``). So do the absorbed person's other open pairs,
which the register could no longer decide (it refuses to merge an absorbed person): with open
pairs A-B and B-C, a merge of B into A closes B-C as superseded by it and queues A-C in its
place, scored as ``oberih dedup`` scores (``_settle``); undoing the merge reopens B-C and
withdraws A-C unless an officer has decided it (``_undo_settlements``).

Exceptions: ``MergeNotFound`` for an unknown merge id; ``MergeNotAllowed`` for a merge, or an
undoing, the register refuses as things stand (the reason says what to do first).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Protocol

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from oberih.audit.events import AuditEvent
from oberih.documents.services import revoke_stale_documents_of
from oberih.exchange.dedup import PairScorer, new_pair, ordered_pair
from oberih.exchange.models import DuplicateCandidate, PersonMerge
from oberih.persons.facts import Fact, FactKind, NewFact
from oberih.persons.services import append_facts, load_facts
from oberih.persons.state import fold
from oberih.rules.services import refresh_person

MERGE_BASIS = "Law 1951-VIII art. 7 (correction of register data: one person recorded twice)"


class MergeNotAllowed(Exception):
    pass


class MergeNotFound(LookupError):
    pass


def get_merge(session: Session, merge_id: uuid.UUID) -> PersonMerge:
    merge = session.get(PersonMerge, merge_id)
    if merge is None:
        raise MergeNotFound(str(merge_id))
    return merge


def merge_persons(
    session: Session,
    *,
    survivor_id: uuid.UUID,
    absorbed_id: uuid.UUID,
    actor: str,
    now: dt.datetime,
) -> PersonMerge:
    if survivor_id == absorbed_id:
        raise MergeNotAllowed("a person cannot be merged into themself")
    # Locked first, before the checks and the facts: a merge of the same two persons from the
    # duplicate queue (which locks the pair first too) waits, then finds them merged.
    pair = _queued_pair(session, survivor_id, absorbed_id)
    # And the absorbed person's other pairs: an officer's decision on one of them waits for
    # this merge, then finds it answered.
    others = _pairs_of(session, absorbed_id)
    for person_id in (absorbed_id, survivor_id):
        # Absorbed once is absorbed: merged again, their facts would be copied twice; and a
        # person absorbed cannot take in another. The earlier merge is undone first.
        earlier = _absorbing(session, person_id)
        if earlier is not None:
            raise MergeNotAllowed(
                f"person {person_id} was merged into {earlier.survivor_id} (merge "
                f"{earlier.id}); undo that merge first"
            )
    merge_id = uuid.uuid4()
    facts = load_facts(session, absorbed_id)
    state = fold(absorbed_id, facts)
    entries = [entry for entry in state.identifiers if entry.data.get("status") == "active"]
    active = [entry.data for entry in entries]
    # An identifier's status is its latest fact by world date (``persons.state``): a release
    # must be dated, from the merge's day (or the identifier's own, if that is later), or an
    # identifier the source dated (an RNOKPP assigned on a day, a passport issued on one)
    # would stay active on the absorbed person and could not be copied to the survivor.
    release = [
        _identifier(
            merge_id, "release", entry.data, "invalidated", actor,
            valid_from=max(now.date(), entry.valid_from or now.date()),
        )
        for entry in entries
    ]  # fmt: skip
    if release:
        append_facts(session, person_id=absorbed_id, facts=release, now=now)
    counted = _counted(facts)
    copies = [_copy(merge_id, fact, actor) for fact in counted]
    result = append_facts(session, person_id=survivor_id, facts=copies, now=now)
    by_record = {fact.source_record_id: fact.id for fact in result.appended}
    mapping = {
        str(by_record[f"merge:{merge_id}:{fact.id}"]): str(fact.id)
        for fact in counted
        if f"merge:{merge_id}:{fact.id}" in by_record
    }
    merge = PersonMerge(
        id=merge_id,
        survivor_id=survivor_id,
        absorbed_id=absorbed_id,
        copies=mapping,
        released=active,
        merged_at=now,
        merged_by=actor,
    )
    session.add(merge)
    _confirm_pair(pair, merge)
    session.flush()
    scorer = PairScorer(session)
    for other in others:
        if other.status == "open":
            _settle(session, other, scorer, now)
    _follow_facts(session, merge, now)
    return merge


def undo_merge(
    session: Session, *, merge: PersonMerge, actor: str, now: dt.datetime
) -> DuplicateCandidate | None:
    """Undo ``merge``; return the pair ``oberih dedup`` queued for its two persons, if any (open
    again if this merge had confirmed it)."""
    pair = _queued_pair(session, merge.survivor_id, merge.absorbed_id)  # as a merge locks it
    # The merge itself locked and read again: of two undoing it at once, the second waits, then
    # finds it undone (read before the lock, it would seem in force, and be undone twice). The
    # pair alone would not do: a merge made outside the queue has none.
    session.refresh(merge, with_for_update=True)
    if merge.undone_at is not None:
        raise MergeNotAllowed("this merge is already undone")
    later = _absorbing(session, merge.survivor_id)
    if later is not None:  # the copies undone here went on to that survivor with the rest
        raise MergeNotAllowed(
            f"the survivor was merged since into {later.survivor_id} (merge {later.id}); "
            "undo that merge first"
        )
    # The releases are retracted, not answered by new facts restoring the identifiers. S, who
    # took in A and was then absorbed by K, had A's identifiers released with its own: restored
    # by new facts, they outlived the retraction of A's copies when A's merge was undone, and A
    # could never have them back. Retracted, each identifier counts again by the facts it had
    # before this merge (A's copies on S, an identifier's own dated facts on anyone).
    releases = [
        fact
        for fact in load_facts(session, merge.absorbed_id)
        if fact.source_record_id.startswith(f"release:{merge.id}:")
    ]
    # The copies first: an identifier leaves the survivor before it is active again on the
    # absorbed person (one active holder at a time, ``persons.services.IdentifierTaken``).
    for person_id, written in (
        (merge.survivor_id, [uuid.UUID(copy_id) for copy_id in merge.copies]),
        (merge.absorbed_id, [fact.id for fact in releases]),
    ):
        if written:
            append_facts(
                session,
                person_id=person_id,
                facts=[_retraction(merge.id, fact_id, actor) for fact_id in written],
                now=now,
            )
    merge.undone_at = now
    merge.undone_by = actor
    _reopen_pair(pair, merge)
    _undo_settlements(session, merge, now)
    _follow_facts(session, merge, now)
    return pair


class AccessEvent(Protocol):
    """Builds the audit event of an access as its caller: ``auth.Access.event`` over HTTP, the
    operator's event on the command line."""

    def __call__(
        self, action: str, *, person_id: uuid.UUID | None, fields: tuple[str, ...]
    ) -> AuditEvent: ...


def merge_audit_events(merge: PersonMerge, event: AccessEvent) -> list[AuditEvent]:
    """The audit events of a merge or of its undoing, however made: both persons' records were
    written (and their determinations and documents followed, ``_follow_facts``), one event of
    a write each. The caller records them with its other events."""
    return [
        event("person:record:write", person_id=person_id, fields=("merge",))
        for person_id in (merge.survivor_id, merge.absorbed_id)
    ]


def _follow_facts(session: Session, merge: PersonMerge, now: dt.datetime) -> None:
    # A merge, or its undoing, writes facts to both persons (a death copied onto the survivor,
    # identifiers released or restored): as after every other writer of facts, in the same
    # transaction, both persons' determinations follow them, and a valid e-document of either
    # whose claims no longer hold is revoked (``documents.services``). Here, so that every way
    # to merge (the duplicate queue, ``oberih exchange merge``, an undo) does both.
    for person_id in (merge.survivor_id, merge.absorbed_id):
        refresh_person(session, person_id, now=now)
    revoke_stale_documents_of(session, [merge.survivor_id, merge.absorbed_id], now=now)


def _absorbing(session: Session, person_id: uuid.UUID) -> PersonMerge | None:
    """The merge in force (not undone) that absorbed ``person_id``, if any."""
    return session.scalars(
        select(PersonMerge).where(
            PersonMerge.absorbed_id == person_id, PersonMerge.undone_at.is_(None)
        )
    ).first()


def _confirm_pair(pair: DuplicateCandidate | None, merge: PersonMerge) -> None:
    """An open pair of the two persons is answered by their merge, however it was made (from
    the queue or by ``oberih exchange merge``): left open, it would offer officers a merge the
    register now refuses. A pair already decided keeps its officer's decision."""
    if pair is not None and pair.status == "open":
        _answer(pair, "confirmed", merge)


def _answer(pair: DuplicateCandidate, status: str, merge: PersonMerge) -> None:
    pair.status = status
    pair.decided_at = merge.merged_at
    pair.decided_by = merge.merged_by
    pair.merge_id = merge.id


def _settle(
    session: Session, pair: DuplicateCandidate, scorer: PairScorer, now: dt.datetime
) -> None:
    """An open pair one of whose persons a merge in force absorbed is answered by that merge:
    confirmed if the other person is its survivor; otherwise superseded, and the survivor and
    the other person are queued in its place (the question the pair asked is now about the
    survivor), unless a pair of those two is already known, decided or not. The new pair is
    settled in turn: a merge undone may reopen a pair whose survivor was absorbed since."""
    current: DuplicateCandidate | None = pair
    while current is not None:
        merge = _absorbing_either(session, current)
        if merge is None:
            return
        absorbed = merge.absorbed_id
        other = current.other_person_id if current.person_id == absorbed else current.person_id
        if other == merge.survivor_id:
            _answer(current, "confirmed", merge)
            return
        _answer(current, "superseded", merge)
        current = _stand_in(session, merge, other, scorer, now)


def _stand_in(
    session: Session,
    merge: PersonMerge,
    other_id: uuid.UUID,
    scorer: PairScorer,
    now: dt.datetime,
) -> DuplicateCandidate | None:
    if _queued_pair(session, merge.survivor_id, other_id) is not None:
        return None
    result = scorer.score_stored(merge.survivor_id, other_id)
    if result is None:
        return None
    stand_in = new_pair((merge.survivor_id, other_id), result, now=now, queued_by_merge_id=merge.id)
    savepoint = session.begin_nested()
    try:
        session.add(stand_in)
        session.flush()
    except IntegrityError:  # queued at the same moment by a merge into the other person
        savepoint.rollback()
        return None
    savepoint.commit()
    return stand_in


def _undo_settlements(session: Session, merge: PersonMerge, now: dt.datetime) -> None:
    """The pairs ``merge`` queued are withdrawn, the pairs it superseded open again: as if it
    had not been made. A pair it superseded whose other person was absorbed since by another
    merge is settled by that one at once (``_settle``)."""
    session.flush()  # the merge undone: no longer absorbing
    for queued in _pairs_of(session, merge.survivor_id):
        if queued.queued_by_merge_id == merge.id:
            _withdraw(session, queued)
    scorer = PairScorer(session)
    for superseded in _pairs_of(session, merge.absorbed_id):
        if superseded.status == "superseded" and superseded.merge_id == merge.id:
            # ``merge_id`` stays, as on a confirmed pair reopened (``_reopen_pair``).
            superseded.status = "open"
            superseded.decided_at = None
            superseded.decided_by = None
            _settle(session, superseded, scorer, now)


def _withdraw(session: Session, pair: DuplicateCandidate) -> None:
    """A pair a merge queued goes when the merge is undone, unless an officer decided it
    (confirmed or rejected: that decision stands), or it stands in for a pair another merge in
    force superseded (it stays, as that merge's). Superseded since by another merge, the pair
    that merge queued in its place goes with it, on the same terms."""
    current: DuplicateCandidate | None = pair
    while current is not None and current.status in ("open", "superseded"):
        heir = _standing_in_for(session, current)
        if heir is not None:
            current.queued_by_merge_id = heir.id
            break
        following = _queued_in_place_of(session, current) if current.status != "open" else None
        session.delete(current)
        session.flush()
        current = following


def _standing_in_for(session: Session, pair: DuplicateCandidate) -> PersonMerge | None:
    """A merge in force into one of the pair's persons that superseded the absorbed person's
    pair with the other one: this pair asks that pair's question too. (It found this pair
    known, and queued none in that one's place.)"""
    persons = (pair.person_id, pair.other_person_id)
    merges = session.scalars(
        select(PersonMerge)
        .where(PersonMerge.survivor_id.in_(persons), PersonMerge.undone_at.is_(None))
        .order_by(PersonMerge.merged_at, PersonMerge.id)
    ).all()
    for merge in merges:
        other = persons[1] if persons[0] == merge.survivor_id else persons[0]
        replaced = _queued_pair(session, merge.absorbed_id, other)
        if replaced is not None and (replaced.status, replaced.merge_id) == (
            "superseded",
            merge.id,
        ):
            return merge
    return None


def _queued_in_place_of(session: Session, pair: DuplicateCandidate) -> DuplicateCandidate | None:
    merge = session.get(PersonMerge, pair.merge_id) if pair.merge_id else None
    if merge is None:
        return None
    absorbed = merge.absorbed_id
    other = pair.other_person_id if pair.person_id == absorbed else pair.person_id
    stand_in = _queued_pair(session, merge.survivor_id, other)
    if stand_in is None or stand_in.queued_by_merge_id != merge.id:
        return None
    return stand_in


def _absorbing_either(session: Session, pair: DuplicateCandidate) -> PersonMerge | None:
    """The merge in force that absorbed one of the pair's persons (the earlier, were both)."""
    persons = (pair.person_id, pair.other_person_id)
    query = select(PersonMerge).where(
        PersonMerge.absorbed_id.in_(persons), PersonMerge.undone_at.is_(None)
    )
    return session.scalars(query.order_by(PersonMerge.merged_at, PersonMerge.id)).first()


def _pairs_of(session: Session, person_id: uuid.UUID) -> list[DuplicateCandidate]:
    """Every pair queued for ``person_id``, whichever of the two they are, locked for this
    transaction (in id order, as every merge locks them)."""
    query = select(DuplicateCandidate).where(
        or_(
            DuplicateCandidate.person_id == person_id,
            DuplicateCandidate.other_person_id == person_id,
        )
    )
    return list(session.scalars(query.order_by(DuplicateCandidate.id).with_for_update()))


def _reopen_pair(pair: DuplicateCandidate | None, merge: PersonMerge) -> None:
    """The pair this merge confirmed is open again. An undone merge leaves two persons, and the
    question the pair asks is unanswered once more: the merge was wrong (the officer rejects
    the pair) or kept the wrong survivor (the officer merges it again the other way). Left
    confirmed, the pair would vouch for a merge no longer in force, and ``oberih dedup`` never
    queues a known pair again. ``merge_id`` still names the undone merge, whose row keeps who
    merged and who undid it, and when."""
    if pair is not None and pair.status == "confirmed" and pair.merge_id == merge.id:
        pair.status = "open"
        pair.decided_at = None
        pair.decided_by = None


def _queued_pair(session: Session, one: uuid.UUID, other: uuid.UUID) -> DuplicateCandidate | None:
    """The pair ``oberih dedup`` queued for these two persons (smaller id first), if any,
    locked for this transaction."""
    first, second = ordered_pair(one, other)
    query = select(DuplicateCandidate).where(
        DuplicateCandidate.person_id == first, DuplicateCandidate.other_person_id == second
    )
    return session.scalars(query.with_for_update()).first()


def _counted(facts: list[Fact]) -> list[Fact]:
    """Facts that count (not superseded, not retractions), oldest first, without identity."""
    superseded = {fact.supersedes_id for fact in facts if fact.supersedes_id}
    return [
        fact
        for fact in facts
        if fact.id not in superseded and fact.kind not in (FactKind.retraction, FactKind.identity)
    ]


def _retraction(merge_id: uuid.UUID, fact_id: uuid.UUID, actor: str) -> NewFact:
    return NewFact(
        kind=FactKind.retraction,
        payload={"reason": f"merge {merge_id} undone"},
        source="register",
        source_record_id=f"unmerge:{merge_id}:{fact_id}",
        legal_basis=MERGE_BASIS,
        actor=actor,
        supersedes_id=fact_id,
    )


def _copy(merge_id: uuid.UUID, fact: Fact, actor: str) -> NewFact:
    return NewFact(
        kind=FactKind(fact.kind),
        payload=fact.payload,
        valid_from=fact.valid_from,
        valid_to=fact.valid_to,
        source="register",
        source_record_id=f"merge:{merge_id}:{fact.id}",
        legal_basis=MERGE_BASIS,
        actor=actor,
    )


def _identifier(
    merge_id: uuid.UUID,
    step: str,
    data: dict[str, object],
    status: str,
    actor: str,
    *,
    valid_from: dt.date,
) -> NewFact:
    return NewFact(
        kind=FactKind.identifier,
        payload={**data, "status": status},
        valid_from=valid_from,
        source="register",
        source_record_id=_record_id(merge_id, step, data),
        legal_basis=MERGE_BASIS,
        actor=actor,
    )


def _record_id(merge_id: uuid.UUID, step: str, data: dict[str, object]) -> str:
    return f"{step}:{merge_id}:{data['identifier_kind']}:{data['value']}"
