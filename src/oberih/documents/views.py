"""HTTP routes of documents: issue, print, the public lists, online verification.

Who may do what (declared permissions, STYLE point 9):

- issue and print (``document:issue``): a citizen for their own record, an officer in their
  area (``ensure_in_scope``), audited as ``document:issue`` / ``document:render``;
- the trust list, the root certificate and the revocation list are **public**: they hold no
  personal data (certificates and hashes of document ids) and offline verifiers need them;
- online verification (``document:verify``, the verifier role) is authenticated and audited:
  it consults the live register, so who checked whose document is recorded and the citizen can
  see it. The public ``/verify`` page (``pages``) gives the offline answer with the published
  lists, which already carry every automatic revocation.
"""

# No ``from __future__ import annotations``: FastAPI reads these annotations at run time.
import datetime as dt
import uuid
from enum import StrEnum
from typing import Annotated, Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel, Field
from sqlalchemy import select

from oberih.api.dependencies import Context, DbSession, Now, record_access
from oberih.api.problems import ApiProblem, problem_responses
from oberih.auth.dependencies import Access, access
from oberih.auth.permissions import Permission
from oberih.documents.claims import RegistrationDocumentClaims
from oberih.documents.codec import MAX_CODE_LENGTH
from oberih.documents.keys import DocumentKeyError, DocumentSettings, Keyring
from oberih.documents.models import IssuedDocumentRow
from oberih.documents.qr import qr_png, qr_svg, qr_version
from oberih.documents.render import card_pdf
from oberih.documents.services import (
    DocumentNotIssuable,
    IssuedDocumentNotFound,
    get_document,
    issue_document,
    revocations_since,
    stored_claims,
    verify_online,
)
from oberih.documents.signed_lists import sign_revocation_list

router = APIRouter(prefix="/api/v1", tags=["documents"])
public_router = APIRouter(prefix="/api/v1/documents", tags=["documents"])

IssueAccess = Annotated[Access, Depends(access(Permission.document_issue))]
VerifyAccess = Annotated[Access, Depends(access(Permission.document_verify))]
PUBLIC_CACHE = "public, max-age=300"


def keyring_of(context: Context) -> Keyring:
    keyring: Keyring = context.services["document_keys"]
    return keyring


def document_settings_of(context: Context) -> DocumentSettings:
    documents: DocumentSettings = context.services["document_settings"]
    return documents


Keys = Annotated[Keyring, Depends(keyring_of)]
Documents = Annotated[DocumentSettings, Depends(document_settings_of)]


class DocumentRead(BaseModel):
    document_id: uuid.UUID
    person_id: uuid.UUID
    kid: str
    issued_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None = None
    revocation_reason: str | None = None
    code: str = Field(description="The MR1: code the QR holds")
    qr_version: int
    claims: dict[str, Any]
    links: dict[str, str]

    @classmethod
    def of(cls, row: IssuedDocumentRow, claims: RegistrationDocumentClaims) -> "DocumentRead":
        base = f"/api/v1/documents/{row.document_id}"
        return cls(
            document_id=row.document_id,
            person_id=row.person_id,
            kid=row.kid,
            issued_at=claims.issued_at,
            expires_at=claims.expires_at,
            revoked_at=row.revoked_at,
            revocation_reason=row.revocation_reason,
            code=row.code,
            qr_version=qr_version(row.code),
            claims=claims.model_dump(mode="json"),
            links={kind: f"{base}.{kind}" for kind in ("png", "svg", "pdf")},
        )


class VerificationRequest(BaseModel):
    code: str = Field(min_length=1, max_length=MAX_CODE_LENGTH + 4)


class VerificationRead(BaseModel):
    valid: bool
    reason: str = Field(
        description="ok, malformed, bad_signature, unknown_key, expired, not_yet_valid, "
        "revoked or unsupported"
    )
    claims: dict[str, Any] | None = None
    kid: str | None = None


def _issue(
    session: DbSession,
    now: dt.datetime,
    granted: Access,
    keyring: Keyring,
    documents: DocumentSettings,
    person_id: uuid.UUID,
) -> DocumentRead:
    try:
        row, claims = issue_document(
            session,
            person_id=person_id,
            keyring=keyring,
            issuer=documents.issuer,
            now=now,
            issued_by=granted.principal.actor,
        )
    except DocumentNotIssuable as exc:
        raise ApiProblem(
            409, "not-issuable", "No document can be issued", detail=str(exc)
        ) from None
    except DocumentKeyError:
        raise ApiProblem(503, "no-signer", "No document signer is available") from None
    record_access(
        session, granted.event("document:issue", person_id=person_id, fields=("document",))
    )
    return DocumentRead.of(row, claims)


@router.post(
    "/persons/{person_id}/documents",
    response_model=DocumentRead,
    status_code=status.HTTP_201_CREATED,
    summary="Issue the electronic registration document of a person in your area",
    responses=problem_responses(404, 409, 503),
)
def issue_for_person(
    person_id: uuid.UUID,
    session: DbSession,
    now: Now,
    granted: IssueAccess,
    keyring: Keys,
    documents: Documents,
) -> DocumentRead:
    granted.ensure_in_scope(session, person_id)
    return _issue(session, now, granted, keyring, documents, person_id)


@router.post(
    "/me/documents",
    response_model=DocumentRead,
    status_code=status.HTTP_201_CREATED,
    summary="Issue your own electronic registration document",
    responses=problem_responses(409, 503),
)
def issue_own(
    session: DbSession, now: Now, granted: IssueAccess, keyring: Keys, documents: Documents
) -> DocumentRead:
    if granted.principal.person_id is None:
        raise ApiProblem(403, "forbidden", "This token is not bound to a person")
    return _issue(session, now, granted, keyring, documents, granted.principal.person_id)


@router.get(
    "/persons/{person_id}/documents",
    response_model=list[DocumentRead],
    summary="The documents issued for a person, newest first, with revocations",
)
def list_documents(
    person_id: uuid.UUID, session: DbSession, now: Now, granted: IssueAccess
) -> list[DocumentRead]:
    granted.ensure_in_scope(session, person_id)
    rows = session.scalars(
        select(IssuedDocumentRow)
        .where(IssuedDocumentRow.person_id == person_id)
        .order_by(IssuedDocumentRow.issued_at.desc())
    )
    record_access(
        session, granted.event("document:list", person_id=person_id, fields=("document",))
    )
    return [DocumentRead.of(row, stored_claims(row)) for row in rows]


class Output(StrEnum):
    png = "png"
    svg = "svg"
    pdf = "pdf"


MEDIA_TYPES = {Output.png: "image/png", Output.svg: "image/svg+xml", Output.pdf: "application/pdf"}


@router.get(
    "/documents/{document_id}.{output}",
    response_class=Response,
    summary="The document as a QR image (PNG, SVG) or a printable card (PDF)",
    responses={
        200: {"content": {media: {} for media in MEDIA_TYPES.values()}},
        **problem_responses(404),
        410: {**problem_responses(404)[404], "description": "The document was revoked"},
    },
)
def render_document(
    document_id: uuid.UUID, output: Output, session: DbSession, now: Now, granted: IssueAccess
) -> Response:
    try:
        row = get_document(session, document_id)
    except IssuedDocumentNotFound:
        raise ApiProblem(404, "not-found", "No such document") from None
    granted.ensure_in_scope(session, row.person_id)
    if row.revoked_at is not None:
        raise ApiProblem(410, "revoked", "This document was revoked", detail=row.revocation_reason)
    record_access(
        session, granted.event("document:render", person_id=row.person_id, fields=(output,))
    )
    if output is Output.png:
        body = qr_png(row.code, scale=6)
    elif output is Output.svg:
        body = qr_svg(row.code, scale=6)
    else:
        body = card_pdf(stored_claims(row), row.code)
    disposition = f'inline; filename="document-{document_id}.{output}"'
    return Response(
        body,
        media_type=MEDIA_TYPES[output],
        headers={"Content-Disposition": disposition, "Cache-Control": "no-store"},
    )


@router.post(
    "/documents/verify",
    response_model=VerificationRead,
    summary="Verify a document online: signature, validity, revocation and the register's data",
)
def verify_document(
    request: VerificationRequest, session: DbSession, now: Now, granted: VerifyAccess, keyring: Keys
) -> VerificationRead:
    outcome = verify_online(session, request.code.strip(), trust=keyring.trust_store(), now=now)
    verdict = outcome.verdict
    record_access(
        session,
        granted.event(
            "document:verify",
            person_id=outcome.person_id,
            fields=(verdict.reason.value,),
        ),
    )
    return VerificationRead(
        valid=verdict.valid,
        reason=verdict.reason.value,
        claims=verdict.claims.model_dump(mode="json") if verdict.claims else None,
        kid=verdict.kid.hex() if verdict.kid else None,
    )


# --- public: what offline verifiers download ----------------------------------------------------

Download = Annotated[bool, Query(description="Answer as a file to save (Content-Disposition)")]


def _headers(response: Response, *, name: str, download: bool) -> None:
    response.headers["Cache-Control"] = PUBLIC_CACHE
    if download:
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'


@public_router.get("/trust-list", summary="The signed trust list: valid signer certificates")
def trust_list(keyring: Keys, response: Response, download: Download = False) -> dict[str, Any]:
    _headers(response, name="oberih-trust-list.json", download=download)
    return keyring.trust_list()


@public_router.get(
    "/root-certificate",
    response_class=Response,
    summary="The root authority certificate (PEM): the trust anchor to pin",
    responses={200: {"content": {"application/x-pem-file": {}}}},
)
def root_certificate(keyring: Keys) -> Response:
    certificate = x509.load_der_x509_certificate(keyring.root_certificate_der)
    return Response(
        certificate.public_bytes(serialization.Encoding.PEM),
        media_type="application/x-pem-file",
        headers={
            "Cache-Control": PUBLIC_CACHE,
            "Content-Disposition": 'attachment; filename="oberih-root.pem"',
        },
    )


@public_router.get(
    "/revocations",
    summary="The signed revocation list (hashes of document ids by signer kid) since a version",
    responses=problem_responses(503),
)
def revocations(
    session: DbSession,
    now: Now,
    keyring: Keys,
    response: Response,
    since: Annotated[int, Query(ge=0, le=2**62, description="The version you have")] = 0,
    download: Download = False,
) -> dict[str, Any]:
    listing = revocations_since(session, since=since, now=now)
    try:
        signer = keyring.signer_for(issued_at=now, expires_at=now + dt.timedelta(seconds=1))
    except DocumentKeyError:
        raise ApiProblem(503, "no-signer", "No document signer is available") from None
    _headers(response, name=f"oberih-revocations-{listing.version}.json", download=download)
    return sign_revocation_list(
        listing.partitions,
        version=listing.version,
        since=since,
        generated_at=now,
        signer_key=signer.private_key,
        signer_kid=signer.kid,
    )
