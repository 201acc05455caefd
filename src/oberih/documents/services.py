"""Issuing documents from the register, revoking them when their claims change, verifying
online against the register. Services add to the session; the caller commits.

Exceptions (mapped to HTTP once, at the edge):
- ``DocumentNotIssuable``: the person is not on the register, or lacks a claim's data.
- ``IssuedDocumentNotFound``: no such issued document.
- ``keys.DocumentKeyError``: no signer can sign (time to rotate).

``revoke_stale_documents(session, person_id, now=)`` must run after every append of facts that
may change a person's claims: the persons routes call it; every other writer of facts (the
exchange intake, bulk corrections) must call it too, in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from oberih.documents.claims import (
    Deferral,
    RegistrationCategory,
    RegistrationDocumentClaims,
    claims_from_cwt,
    decode_cwt,
)
from oberih.documents.codec import decode_code
from oberih.documents.cose import decode_sign1
from oberih.documents.errors import DocumentError
from oberih.documents.keys import MAX_DOCUMENT_VALIDITY, Keyring
from oberih.documents.models import DocumentRevocationRow, IssuedDocumentRow
from oberih.documents.signed_lists import RevocationPartition, canonical_json
from oberih.documents.trust import TrustStore, revocation_hash
from oberih.documents.verify import Reason, Verdict, verify
from oberih.names import to_latin
from oberih.persons.services import get_state
from oberih.persons.state import PersonState
from oberih.rules.results import Determination
from oberih.rules.services import evaluate_person

KYIV = ZoneInfo("Europe/Kyiv")
# Claims that identify the document itself, not the person: left out of the fingerprint.
_DOCUMENT_FIELDS = frozenset({"document_id", "issuer", "issued_at", "expires_at"})


class DocumentNotIssuable(DocumentError):
    """No document can be issued: the person is not on the register or lacks data."""


class IssuedDocumentNotFound(LookupError):
    pass


def _aware(moment: dt.datetime) -> dt.datetime:
    # SQLite returns naive datetimes for timezone-aware columns; they were stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


# --- claims from the register (pure) ------------------------------------------------------------


def _shown_deferral(determination: Determination, on: dt.date) -> Deferral | None:
    """The reservation if any (it exempts from mobilisation), else the longest deferral."""
    for reservation in determination.reservations:
        if reservation.employer_code and (reservation.valid_from or on) <= on:
            return Deferral(
                kind="reservation", ground=reservation.employer_code, valid_until=reservation.until
            )
    current = [d for d in determination.deferrals if (d.valid_from or on) <= on]
    if not current:
        return None
    longest = max(current, key=lambda d: d.until or dt.date.max)
    return Deferral(kind="deferral", ground=longest.ground, valid_until=longest.until)


def expiry(issued_at: dt.datetime, document_valid_until: dt.date) -> dt.datetime:
    """The end (Kyiv time) of the determination's last valid day, and at most a year after
    issue (Res. 1487: the e-document shows data valid on its day of formation)."""
    end_of_day = dt.datetime.combine(document_valid_until + dt.timedelta(days=1), dt.time(), KYIV)
    return min(
        end_of_day.astimezone(dt.UTC) - dt.timedelta(seconds=1), issued_at + MAX_DOCUMENT_VALIDITY
    )


def claims_for(
    state: PersonState,
    determination: Determination,
    *,
    document_id: uuid.UUID,
    issuer: str,
    issued_at: dt.datetime,
) -> RegistrationDocumentClaims:
    """The claims of a document issued at ``issued_at`` (raises ``DocumentNotIssuable``)."""
    if determination.document_valid_until is None or state.identity is None:
        raise DocumentNotIssuable("the person is not on the military register")
    registration = state.military_registration.data if state.military_registration else {}
    identity = state.identity.data
    patronymic = identity.get("patronymic")
    fields: dict[str, Any] = {
        "document_id": document_id,
        "issuer": issuer,
        "issued_at": issued_at,
        "expires_at": expiry(issued_at, determination.document_valid_until),
        "surname": identity["surname"],
        "given_name": identity["given_name"],
        "patronymic": patronymic or None,
        "surname_latin": to_latin(identity["surname"]),
        "given_name_latin": to_latin(identity["given_name"]),
        "patronymic_latin": to_latin(patronymic) if patronymic else None,
        "birth_date": identity["birth_date"],
        "category": RegistrationCategory(determination.category.value)
        if determination.category.value in set(RegistrationCategory)
        else None,
        "rank": registration.get("rank") or None,
        "military_specialty": registration.get("specialty_code") or None,
        "recruitment_office_code": state.office_code,
        "deferral": _shown_deferral(determination, issued_at.date()),
        "data_being_clarified": bool(registration.get("data_being_clarified", False)),
    }
    try:
        return RegistrationDocumentClaims(**fields)
    except ValidationError as exc:
        failing = sorted({".".join(map(str, error["loc"])) for error in exc.errors()})
        raise DocumentNotIssuable(f"missing or invalid data: {', '.join(failing)}") from None


def shown_claims(claims: RegistrationDocumentClaims) -> dict[str, Any]:
    """What the document says about the person (not about itself)."""
    return claims.model_dump(mode="json", exclude=set(_DOCUMENT_FIELDS))


def claims_fingerprint(claims: RegistrationDocumentClaims) -> str:
    return hashlib.sha256(canonical_json(shown_claims(claims))).hexdigest()


# --- storage ------------------------------------------------------------------------------------


def current_claims(
    session: Session, person_id: uuid.UUID, *, now: dt.datetime, issuer: str
) -> RegistrationDocumentClaims:
    state = get_state(session, person_id)
    determination = evaluate_person(session, person_id, now.astimezone(KYIV).date())
    return claims_for(state, determination, document_id=uuid.uuid4(), issuer=issuer, issued_at=now)


def issue_document(
    session: Session,
    *,
    person_id: uuid.UUID,
    keyring: Keyring,
    issuer: str,
    now: dt.datetime,
    issued_by: str,
) -> tuple[IssuedDocumentRow, RegistrationDocumentClaims]:
    """Sign the person's current claims and store the issued document."""
    claims = current_claims(session, person_id, now=now, issuer=issuer)
    signer = keyring.signer_for(issued_at=claims.issued_at, expires_at=claims.expires_at)
    row = IssuedDocumentRow(
        document_id=claims.document_id,
        person_id=person_id,
        kid=signer.kid.hex(),
        issued_at=claims.issued_at,
        expires_at=claims.expires_at,
        issued_by=issued_by[:128],
        claims_fingerprint=claims_fingerprint(claims),
        code=signer.issue(claims),
    )
    session.add(row)
    session.flush()
    return row, claims


def get_document(session: Session, document_id: uuid.UUID) -> IssuedDocumentRow:
    row = session.get(IssuedDocumentRow, document_id)
    if row is None:
        raise IssuedDocumentNotFound(str(document_id))
    return row


def stored_claims(row: IssuedDocumentRow) -> RegistrationDocumentClaims:
    """The claims of a document the register issued (its own signed code, not re-verified)."""
    _context, cose_bytes = decode_code(row.code)
    return claims_from_cwt(decode_cwt(decode_sign1(cose_bytes).payload))


def revoke_document(
    session: Session, row: IssuedDocumentRow, *, reason: str, now: dt.datetime
) -> None:
    """Mark the document revoked and publish its hash on the revocation list."""
    if row.revoked_at is not None:
        return
    row.revoked_at = now
    row.revocation_reason = reason[:64]
    session.add(
        DocumentRevocationRow(
            document_id=row.document_id,
            kid=row.kid,
            revocation_hash=revocation_hash(row.document_id),
            revoked_at=now,
            expires_at=row.expires_at,
        )
    )
    session.flush()


def valid_documents(
    session: Session, person_id: uuid.UUID, *, now: dt.datetime
) -> list[IssuedDocumentRow]:
    rows = session.scalars(
        select(IssuedDocumentRow).where(
            IssuedDocumentRow.person_id == person_id, IssuedDocumentRow.revoked_at.is_(None)
        )
    )
    return [row for row in rows if _aware(row.expires_at) >= now]


def _changed_fields(before: RegistrationDocumentClaims, after: dict[str, Any]) -> list[str]:
    shown = shown_claims(before)
    return sorted(name for name in shown if shown[name] != after.get(name))


def revoke_stale_documents(
    session: Session, person_id: uuid.UUID, *, now: dt.datetime
) -> list[IssuedDocumentRow]:
    """Revoke the person's valid documents whose claims the register no longer supports
    (reason ``data_changed: <fields>``, or ``not_issuable``). Returns the revoked rows."""
    rows = valid_documents(session, person_id, now=now)
    if not rows:
        return []
    try:
        current: dict[str, Any] | None = shown_claims(
            current_claims(session, person_id, now=now, issuer="UA")
        )
    except DocumentNotIssuable:
        current = None
    revoked = []
    for row in rows:
        if current is None:
            reason = "not_issuable"
        elif claims_fingerprint_of(current) == row.claims_fingerprint:
            continue
        else:
            reason = "data_changed: " + ",".join(_changed_fields(stored_claims(row), current))
        revoke_document(session, row, reason=reason, now=now)
        revoked.append(row)
    return revoked


def revoke_stale_documents_of(
    session: Session, person_ids: Sequence[uuid.UUID], *, now: dt.datetime
) -> list[IssuedDocumentRow]:
    """``revoke_stale_documents`` for many persons (a chunk of a feed): one query finds which
    of them hold a document that is not revoked; only those are checked."""
    if not person_ids:
        return []
    holders = session.scalars(
        select(IssuedDocumentRow.person_id)
        .where(
            IssuedDocumentRow.person_id.in_(sorted(set(person_ids))),
            IssuedDocumentRow.revoked_at.is_(None),
        )
        .distinct()
    ).all()
    revoked: list[IssuedDocumentRow] = []
    for person_id in sorted(holders):
        revoked.extend(revoke_stale_documents(session, person_id, now=now))
    return revoked


def claims_fingerprint_of(shown: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(shown)).hexdigest()


def sweep_documents(session: Session, *, now: dt.datetime) -> list[IssuedDocumentRow]:
    """``revoke_stale_documents`` for every person holding a valid document: the daily safety
    net for claims that change with time alone (a category at a birthday) and for writers of
    facts that do not call the hook. Returns the rows revoked."""
    holders = session.scalars(
        select(IssuedDocumentRow.person_id)
        .where(IssuedDocumentRow.revoked_at.is_(None), IssuedDocumentRow.expires_at >= now)
        .distinct()
    ).all()
    revoked: list[IssuedDocumentRow] = []
    for person_id in holders:
        revoked.extend(revoke_stale_documents(session, person_id, now=now))
    return revoked


# --- the revocation list ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RevocationListing:
    version: int  # the latest version: ask ``since`` it next time
    since: int
    partitions: Sequence[RevocationPartition]


def revocations_since(session: Session, *, since: int, now: dt.datetime) -> RevocationListing:
    """Revocations after version ``since`` of documents not yet expired, grouped by kid.

    Expired documents leave the list (a verifier rejects them as expired anyway), as in the
    DCC revocation design."""
    rows = session.execute(
        select(DocumentRevocationRow.kid, DocumentRevocationRow.revocation_hash)
        .where(DocumentRevocationRow.version > since, DocumentRevocationRow.expires_at >= now)
        .order_by(DocumentRevocationRow.version)
    )
    grouped: dict[str, list[bytes]] = defaultdict(list)
    for kid, document_hash in rows:
        grouped[kid].append(bytes(document_hash))
    latest = session.scalar(select(func.max(DocumentRevocationRow.version))) or 0
    return RevocationListing(
        version=max(latest, since),
        since=since,
        partitions=[
            RevocationPartition(kid=bytes.fromhex(kid), hashes=hashes)
            for kid, hashes in sorted(grouped.items())
        ],
    )


class RegisterRevocations:
    """A ``RevocationChecker`` over the register's own revocation table."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def is_revoked(self, *, kid: bytes, document_hash: bytes) -> bool:
        found = self._session.scalar(
            select(DocumentRevocationRow.version).where(
                DocumentRevocationRow.kid == kid.hex(),
                DocumentRevocationRow.revocation_hash == document_hash,
            )
        )
        return found is not None


# --- online verification ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OnlineVerdict:
    verdict: Verdict
    person_id: uuid.UUID | None = None  # for the audit event, never shown to the verifier


def verify_online(
    session: Session, code: str, *, trust: TrustStore, now: dt.datetime
) -> OnlineVerdict:
    """The offline checks with the register's revocations, then the register itself: a
    document it does not know, or whose claims no longer hold, is ``revoked`` (and revoked
    for good, so that offline verifiers learn it from the next list)."""
    verdict = verify(code, trust=trust, revoked=RegisterRevocations(session), at=now)
    if not verdict.valid or verdict.claims is None:
        return OnlineVerdict(verdict)
    row = session.get(IssuedDocumentRow, verdict.claims.document_id)
    if row is None:
        return OnlineVerdict(_revoked(verdict, "not issued by this register"))
    if row.revoked_at is None:
        revoke_stale_documents(session, row.person_id, now=now)
    if row.revoked_at is not None:
        return OnlineVerdict(_revoked(verdict, row.revocation_reason or "revoked"), row.person_id)
    return OnlineVerdict(verdict, row.person_id)


def _revoked(verdict: Verdict, detail: str) -> Verdict:
    return Verdict(reason=Reason.revoked, context=verdict.context, kid=verdict.kid, detail=detail)
