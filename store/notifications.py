"""Which experts were told about which order, in which matching round, and how they answered."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, Session, SQLModel, col, select

from store.clock import utcnow


class OrderNotification(SQLModel, table=True):
    __tablename__ = "order_notifications"
    __table_args__ = (
        UniqueConstraint("order_id", "expert_id", name="uq_notification_order_expert"),
    )

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", index=True)
    expert_id: int = Field(foreign_key="users.id", index=True)
    round: int = 1
    score: float = 0.0
    reason: str = Field(default="", max_length=200)
    declined: bool = False
    notified_at: datetime = Field(default_factory=utcnow)
    team_id: int | None = None  # told as this team's member (a team id; no foreign key)


def record_notified(
    *,
    session: Session,
    order_id: int,
    round_: int,
    matches: list[tuple[int, float, str]],
    teams: dict[int, int] | None = None,
) -> list[int]:
    """Remember who was notified; return the expert ids that are new for this order.

    *teams*: expert id -> the team they were told for (as its member)."""
    known = set(notified_experts(session=session, order_id=order_id))
    new: list[int] = []
    for expert_id, score, reason in matches:
        if expert_id in known:
            continue
        session.add(
            OrderNotification(
                order_id=order_id,
                expert_id=expert_id,
                round=round_,
                score=score,
                reason=reason[:200],
                team_id=(teams or {}).get(expert_id),
            )
        )
        new.append(expert_id)
        known.add(expert_id)
    session.commit()
    return new


def notified_experts(
    *, session: Session, order_id: int, declined: bool | None = None
) -> list[int]:
    """Experts told of the order, in the order they were told; *declined* False leaves out
    those who said 不合适 or were replaced (换一位)."""
    stmt = select(OrderNotification.expert_id).where(OrderNotification.order_id == order_id)
    if declined is not None:
        stmt = stmt.where(OrderNotification.declined == declined)
    return list(session.exec(stmt.order_by(col(OrderNotification.id))).all())


def decline(*, session: Session, order_id: int, expert_id: int) -> bool:
    row = session.exec(
        select(OrderNotification).where(
            OrderNotification.order_id == order_id, OrderNotification.expert_id == expert_id
        )
    ).first()
    if row is None:
        return False
    row.declined = True
    session.add(row)
    session.commit()
    return True


def notified_team(*, session: Session, order_id: int, expert_id: int) -> int | None:
    """The team *expert_id* was told of the order for, if they were told as a member."""
    if not 0 < order_id < 2**31:  # an id no row can have (and the database cannot take)
        return None
    return session.exec(
        select(OrderNotification.team_id).where(
            OrderNotification.order_id == order_id, OrderNotification.expert_id == expert_id
        )
    ).first()


def notified_teams(*, session: Session, order_id: int) -> set[int]:
    rows = session.exec(
        select(OrderNotification.team_id).where(OrderNotification.order_id == order_id)
    ).all()
    return {t for t in rows if t is not None}
