"""Contracts: the ISP's templates (text in English and French, versioned), contracts issued to
an account, the signature records and the append-only, hash-chained signature log."""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import Column, Text, UniqueConstraint, event
from sqlmodel import Field, SQLModel

from rxportal.models.base import utcnow

__all__ = ["ContractTemplate", "Contract", "ContractSignature", "SignatureLogEntry",
           "AppendOnlyViolation"]


class ContractTemplate(SQLModel, table=True):
    """One version of a contract's text. A new wording is a new row with a higher version:
    contracts keep pointing at the exact version they were issued with."""
    __table_args__ = (UniqueConstraint("code", "version", name="uq_contracttemplate_version"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, index=True)  # groups the versions, e.g. "terms"
    version: int = Field(default=1)
    name_en: str = Field(max_length=120)
    name_fr: str = Field(max_length=120)
    body_en: str = Field(sa_column=Column(Text, nullable=False))
    body_fr: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class Contract(SQLModel, table=True):
    """A template issued to an account, to be signed. The same template may be issued again."""
    id: Optional[int] = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    template_id: int = Field(foreign_key="contracttemplate.id", index=True)
    issued_on: date
    status: str = Field(default="pending", max_length=16, index=True)  # pending | signed
    signed_at: Optional[datetime] = None
    created_at: datetime = Field(default_factory=utcnow)


class ContractSignature(SQLModel, table=True):
    """What was signed, by whom, when and how. Written once, never changed; one per contract."""
    id: Optional[int] = Field(default=None, primary_key=True)
    contract_id: int = Field(foreign_key="contract.id", unique=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    user_id: int = Field(foreign_key="portaluser.id")
    username: str = Field(max_length=64)
    typed_name: str = Field(max_length=120)
    language: str = Field(max_length=8)
    title: str = Field(max_length=120)
    text: str = Field(sa_column=Column(Text, nullable=False))  # the filled text, as shown
    text_sha256: str = Field(max_length=64)
    consent_version: str = Field(max_length=32)
    consent_text: str = Field(sa_column=Column(Text, nullable=False))
    signature_png_sha256: str = Field(max_length=64)
    signed_at: datetime = Field(default_factory=utcnow)
    timezone: str = Field(max_length=64)
    ip: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=300)
    pdf_path: str = Field(max_length=300)  # relative to the data folder
    pdf_sha256: str = Field(max_length=64)


class SignatureLogEntry(SQLModel, table=True):
    """The append-only log: each entry's hash covers its payload and the previous entry's hash,
    so an edited, removed or reordered entry breaks the chain (`rxportal contracts verify`)."""
    id: Optional[int] = Field(default=None, primary_key=True)
    seq: int = Field(unique=True)  # 1, 2, 3...: two writers racing for a number, one wins
    signature_id: int = Field(foreign_key="contractsignature.id", index=True)
    payload: str = Field(sa_column=Column(Text, nullable=False))  # canonical JSON
    prev_hash: str = Field(max_length=64)
    entry_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow)


class AppendOnlyViolation(RuntimeError):
    pass


def _refuse_change(_mapper, _connection, target) -> None:
    raise AppendOnlyViolation(f"{type(target).__name__} rows are never changed or deleted")


for _model in (ContractSignature, SignatureLogEntry):
    event.listen(_model, "before_update", _refuse_change)
    event.listen(_model, "before_delete", _refuse_change)
