"""Enterprises and institutions that post technical needs (找技术) and look for talent and
achievements: one record per person who speaks for it (its contact person)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlmodel import Field, Session, SQLModel, select

from store.clock import utcnow
from store.errors import InvalidInput
from store.users import User
from store.validation import clean_text, validate_region


class RequesterKind(StrEnum):
    """Who posted a need: the indicators split the acquisition rate by this."""

    INDIVIDUAL = "individual"
    ENTERPRISE = "enterprise"


class EnterpriseSize(StrEnum):
    MICRO = "micro"
    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"
    UNKNOWN = ""


class Enterprise(SQLModel, table=True):
    __tablename__ = "enterprises"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", unique=True)  # its contact person
    name: str = Field(max_length=128)
    industry: str = Field(default="", max_length=64)
    size: str = Field(default="", max_length=16)
    contact_name: str = Field(default="", max_length=64)
    province: str = Field(default="", max_length=32)
    city: str = Field(default="", max_length=32)
    county: str = Field(default="", max_length=32)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


def save_enterprise(
    *,
    session: Session,
    user: User,
    name: str,
    industry: str = "",
    size: str = "",
    contact_name: str = "",
    province: str = "",
    city: str = "",
    county: str = "",
) -> Enterprise:
    """Create or update the enterprise *user* speaks for.

    Raises:
        InvalidInput: no name, an unknown size or region.
    """
    if user.id is None:
        raise InvalidInput("user", user, "user must be saved first")
    clean = clean_text(name, field="company", max_len=128)
    if size not in {s.value for s in EnterpriseSize}:
        raise InvalidInput("size", size, "expected micro, small, medium or large")
    region = validate_region(province, city, county)
    row = enterprise_of(session=session, user_id=user.id) or Enterprise(user_id=user.id, name="")
    row.name = clean
    row.industry = industry.strip()[:64] or row.industry
    row.size = size or row.size
    row.contact_name = contact_name.strip()[:64] or row.contact_name
    if region:
        row.province, row.city, row.county = region.province, region.city, region.county
    row.updated_at = utcnow()
    session.add(row)
    session.commit()
    session.refresh(row)
    return row


def enterprise_of(*, session: Session, user_id: int) -> Enterprise | None:
    return session.exec(select(Enterprise).where(Enterprise.user_id == user_id)).first()


def requester_kind(*, session: Session, user_id: int) -> RequesterKind:
    """Enterprise when the person speaks for one, else individual."""
    found = enterprise_of(session=session, user_id=user_id)
    return RequesterKind.ENTERPRISE if found is not None else RequesterKind.INDIVIDUAL


def export_enterprise(*, session: Session, user_id: int) -> dict[str, Any] | None:
    row = enterprise_of(session=session, user_id=user_id)
    return None if row is None else row.model_dump(mode="json")


def forget_enterprise(*, session: Session, user_id: int) -> int:
    """Delete the enterprise record of a person who asked to be forgotten (not committed)."""
    row = enterprise_of(session=session, user_id=user_id)
    if row is None:
        return 0
    session.delete(row)
    return 1
