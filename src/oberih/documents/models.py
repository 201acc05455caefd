"""Issued documents and their revocations.

``registration_document`` keeps every document the register issued: whose it is, which signer
signed it, its validity, the fingerprint of the claims it shows (to revoke it when they change)
and the code itself (to print it again). ``document_revocation`` is the published revocation
list: its autoincrement ``version`` is what verifiers ask for updates since (EU DCC revocation
design: hashes of document ids, partitioned by the signer's kid).
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from oberih.db.base import Base


class IssuedDocumentRow(Base):
    __tablename__ = "registration_document"
    __table_args__ = (Index("ix_registration_document_person_id", "person_id"),)

    document_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"))
    kid: Mapped[str] = mapped_column(String(16))  # hex of the signer's 8-byte kid
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    issued_by: Mapped[str] = mapped_column(String(128))  # the actor, as in the audit log
    claims_fingerprint: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(Text)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revocation_reason: Mapped[str | None] = mapped_column(String(64))


class DocumentRevocationRow(Base):
    __tablename__ = "document_revocation"
    __table_args__ = (Index("ix_document_revocation_expires_at", "expires_at"),)

    version: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    document_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("registration_document.document_id"), unique=True
    )
    kid: Mapped[str] = mapped_column(String(16))
    revocation_hash: Mapped[bytes] = mapped_column(LargeBinary(16))
    revoked_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
