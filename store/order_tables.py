"""The order tables: orders, their event timeline, and ratings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, Index, String
from sqlmodel import Field, SQLModel

from store.clock import utcnow
from store.lifecycle import OrderStatus


class Order(SQLModel, table=True):
    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_status_updated", "status", "updated_at"),
        # who accepted what when: the expert supply rate without reading order rows
        Index("ix_orders_expert_accepted", "expert_id", "accepted_at"),
        Index("ix_orders_accepted", "accepted_at"),  # whether a rollup day is complete
        CheckConstraint(
            "status IN ('posted','matched','accepted','resolved','closed','expired','cancelled')",
            name="ck_orders_status",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    need_id: int = Field(foreign_key="needs.id", unique=True)
    requester_id: int = Field(foreign_key="users.id", index=True)
    expert_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    status: OrderStatus = Field(
        default=OrderStatus.POSTED, sa_column=Column(String(16), nullable=False)
    )
    match_round: int = Field(default=0)
    resolution_note: str = Field(default="", max_length=2000)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)
    accepted_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    # when the two parties were given each other's phone (None: they talk through us)
    contacts_at: datetime | None = None
    # the team the accepting expert took it for (rated as the team; members see it)
    # (no foreign key: added by a migration step; teams are dissolved, never deleted)
    team_id: int | None = Field(default=None, index=True)


class OrderEvent(SQLModel, table=True):
    __tablename__ = "order_events"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", index=True)
    actor_id: int | None = Field(default=None, foreign_key="users.id")
    action: str = Field(max_length=16)
    from_status: str | None = Field(default=None, max_length=16)
    to_status: str = Field(max_length=16)
    note: str = Field(default="", max_length=2000)
    at: datetime = Field(default_factory=utcnow, index=True)


class Rating(SQLModel, table=True):
    __tablename__ = "ratings"
    __table_args__ = (CheckConstraint("score BETWEEN 1 AND 5", name="ck_ratings_score"),)

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", unique=True)
    expert_id: int = Field(foreign_key="users.id", index=True)
    requester_id: int = Field(foreign_key="users.id")
    score: int
    comment: str = Field(default="", max_length=1000)
    created_at: datetime = Field(default_factory=utcnow)
