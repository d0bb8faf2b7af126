"""Needs: what a farmer or enterprise asks a person for. Posting one opens its order."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, String
from sqlmodel import Field, Session, SQLModel

from store.clock import utcnow
from store.errors import InvalidInput, NotFound
from store.validation import clean_text, normalize_phone, validate_region


class Category(StrEnum):
    DISEASE = "disease"
    PEST = "pest"
    SOIL = "soil"
    CULTIVATION = "cultivation"
    LIVESTOCK = "livestock"
    PROCESSING = "processing"
    OTHER = "other"


class RequesterKind(StrEnum):
    """Who posts: a person (farmer, household) or an enterprise (indicators split by it)."""

    INDIVIDUAL = "individual"
    ENTERPRISE = "enterprise"


class Urgency(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"


# Indexes for the regional indicators (store.metrics), one per level of region so that every
# view reads a narrow covering index in the order its GROUP BY needs: by requester (distinct
# requesters are counted while streaming, without a sort), by time to accept (a median is
# an index walk to the middle row, not a sort of every accepted need) and by time.
_TAIL = ("created_at", "status", "accepted_at", "resolved_at", "rating")
METRICS_INDEXES: dict[str, tuple[str, ...]] = {
    "ix_needs_p_requester": ("province", "requester_id", *_TAIL),
    "ix_needs_c_requester": ("province", "city", "requester_id", *_TAIL),
    "ix_needs_k_requester": ("province", "city", "county", "requester_id", *_TAIL),
    "ix_needs_p_wait": ("province", "accept_seconds", "created_at"),
    "ix_needs_c_wait": ("province", "city", "accept_seconds", "created_at"),
    "ix_needs_k_wait": ("province", "city", "county", "accept_seconds", "created_at"),
    # unmet needs by status, then time, so that only needs nobody took are read
    "ix_needs_p_unmet": ("province", "status", "created_at", "city", "county", "category", "crop"),
    "ix_needs_c_unmet": ("province", "city", "status", "created_at", "county", "category", "crop"),
    # per-week counts are range scans in time order
    "ix_needs_p_time": ("province", "created_at", "accepted_at"),
    "ix_needs_c_time": ("province", "city", "created_at", "accepted_at"),
    "ix_needs_k_time": ("province", "city", "county", "created_at", "accepted_at"),
}


class NeedBase(SQLModel):
    text: str
    crop: str = Field(default="", max_length=32, index=True)
    problem: str = ""
    category: Category = Field(default=Category.OTHER, sa_type=String(16))
    province: str = Field(default="", max_length=32)
    city: str = Field(default="", max_length=32)
    county: str = Field(default="", max_length=32)
    urgency: Urgency = Field(default=Urgency.NORMAL, sa_type=String(8))
    budget: int | None = None
    contact_phone: str = Field(default="", max_length=20)
    requester_kind: str = Field(
        default=RequesterKind.INDIVIDUAL.value,
        max_length=16,
        sa_column_kwargs={"server_default": RequesterKind.INDIVIDUAL.value},
    )
    # --- enterprises and achievements (issue 18) ---
    # who posted it: "individual" | "enterprise" (the indicators split by this)
    # an enterprise's technical need: process | testing | equipment | product ("" otherwise)
    service_kind: str = Field(default="", max_length=16, sa_column_kwargs={"server_default": ""})
    # as the requester said it ("年底前")
    deadline: str = Field(default="", max_length=32, sa_column_kwargs={"server_default": ""})
    paid_contract: bool | None = None  # a paid contract is expected (None: not said)
    # a 对接 request: the achievement asked for (its owner is the only one notified). No
    # foreign key: added by a migration step, and achievements are withdrawn, never deleted
    achievement_id: int | None = Field(default=None, index=True)


class Need(NeedBase, table=True):
    __tablename__ = "needs"
    __table_args__ = (
        Index("ix_needs_region", "province", "city", "county"),
        Index("ix_needs_status_created", "status", "created_at"),
        *(Index(name, *columns) for name, columns in METRICS_INDEXES.items()),
    )

    id: int | None = Field(default=None, primary_key=True)
    requester_id: int = Field(foreign_key="users.id", index=True)
    # Mirror the need's order (status, accept and resolve times) and its rating, kept in step
    # by store.orders in the same transaction, so that browsing and the regional indicators
    # read one table through one covering index instead of joining a million orders.
    status: str = Field(default="posted", max_length=16)
    created_at: datetime = Field(default_factory=utcnow)
    accepted_at: datetime | None = None
    accept_seconds: int | None = None  # accepted_at - created_at, for medians by index
    resolved_at: datetime | None = None
    rating: int | None = None


class NeedCreate(NeedBase):
    pass


MAX_BUDGET = 100_000_000
REQUESTER_KINDS = ("individual", "enterprise")
SERVICE_KINDS = ("", "process", "testing", "equipment", "product")


def validate_need(need_in: NeedCreate) -> dict[str, Any]:
    """Checked and normalised column values for a new need.

    Raises:
        InvalidInput: empty or over-long text, bad phone, unknown region, absurd budget.
    """
    data = need_in.model_dump()
    data["text"] = clean_text(need_in.text, field="text")
    data["problem"] = (need_in.problem or "").strip()[:500]
    data["crop"] = (need_in.crop or "").strip()[:32]
    if not need_in.contact_phone:
        raise InvalidInput(
            "contact_phone", need_in.contact_phone, "a need requires a contact phone"
        )
    data["contact_phone"] = normalize_phone(need_in.contact_phone)
    region = validate_region(need_in.province, need_in.city, need_in.county)
    if not region:
        raise InvalidInput("province", need_in.province, "a need requires a region")
    data.update(province=region.province, city=region.city, county=region.county)
    if need_in.budget is not None and not 0 <= need_in.budget <= MAX_BUDGET:
        raise InvalidInput("budget", need_in.budget, f"must be between 0 and {MAX_BUDGET}")
    data["category"] = Category(need_in.category).value
    if need_in.requester_kind not in REQUESTER_KINDS:
        raise InvalidInput("requester_kind", need_in.requester_kind, "individual or enterprise")
    if need_in.service_kind not in SERVICE_KINDS:
        raise InvalidInput("service_kind", need_in.service_kind, "unknown service kind")
    data["deadline"] = (need_in.deadline or "").strip()[:32]
    data["urgency"] = Urgency(need_in.urgency).value
    try:
        data["requester_kind"] = RequesterKind(need_in.requester_kind).value
    except ValueError:
        raise InvalidInput(
            "requester_kind", need_in.requester_kind, "expected 'individual' or 'enterprise'"
        ) from None
    return data


def get_need(*, session: Session, need_id: int) -> Need:
    need = session.get(Need, need_id)
    if need is None:
        raise NotFound("need", need_id)
    return need
