"""The marketplace's trust rules: expert verification, who may accept an order, the record of
who saw whose contact, reports and suspended accounts.

Who may accept (:func:`check_accept`): an expert notified of the order, or (only when verified,
unless the rules say otherwise) one browsing within their service regions and fields; never a
suspended account; at most ``accepts_per_day`` accepts a day and ``max_open_orders`` accepted
orders not yet resolved, both counted in SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from sqlalchemy import UniqueConstraint, update
from sqlalchemy.orm import aliased
from sqlmodel import Field, Session, SQLModel, col, func, or_, select

from store.clock import as_utc, utcnow
from store.errors import InvalidInput, StoreError
from store.experts import ExpertProfile
from store.lifecycle import Action, OrderStatus
from store.notifications import OrderNotification
from store.order_tables import Order, OrderEvent
from store.users import User

# the platform's day starts at midnight Beijing time (UTC+8, no daylight saving)
DAY_OFFSET = timedelta(hours=8)


class Decision(StrEnum):
    VERIFIED = "verified"
    REJECTED = "rejected"


class ExpertReview(SQLModel, table=True):
    """One administrator decision about an expert; the latest row is the expert's standing."""

    __tablename__ = "expert_reviews"

    id: int | None = Field(default=None, primary_key=True)
    expert_id: int = Field(foreign_key="users.id", index=True)
    decision: str = Field(max_length=16)
    unit: str = Field(default="", max_length=128)  # who vouches for the expert (verified)
    reason: str = Field(default="", max_length=500)
    decided_by: int | None = Field(default=None, foreign_key="users.id")
    at: datetime = Field(default_factory=utcnow)


class Suspension(SQLModel, table=True):
    __tablename__ = "suspensions"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    reason: str = Field(default="", max_length=500)
    decided_by: int | None = Field(default=None, foreign_key="users.id")
    at: datetime = Field(default_factory=utcnow)
    lifted_at: datetime | None = None
    lifted_by: int | None = Field(default=None, foreign_key="users.id")


class Report(SQLModel, table=True):
    """A party of an order reports the other party."""

    __tablename__ = "reports"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", index=True)
    reporter_id: int = Field(foreign_key="users.id")
    reported_id: int = Field(foreign_key="users.id", index=True)
    reason: str = Field(default="", max_length=1000)
    at: datetime = Field(default_factory=utcnow)


class ContactView(SQLModel, table=True):
    """*viewer* was given *subject*'s phone for *order* at *at*."""

    __tablename__ = "contact_views"
    __table_args__ = (
        UniqueConstraint("order_id", "viewer_id", "subject_id", name="uq_contact_view"),
    )

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", index=True)
    viewer_id: int = Field(foreign_key="users.id", index=True)
    subject_id: int = Field(foreign_key="users.id", index=True)
    at: datetime = Field(default_factory=utcnow)


@dataclass(frozen=True, slots=True)
class MarketRules:
    """The settings UNVERIFIED_MAY_BROWSE_ACCEPT, ACCEPTS_PER_DAY, MAX_OPEN_ORDERS and
    CONTACT_EXCHANGE."""

    unverified_may_browse_accept: bool = False
    accepts_per_day: int = 10
    max_open_orders: int = 5
    contact_exchange: Literal["on_consent", "on_accept"] = "on_consent"


class Refusal(StrEnum):
    SUSPENDED = "suspended"
    NOT_NOTIFIED = "not_notified"  # neither notified nor verified to take browsed needs
    OUT_OF_SCOPE = "out_of_scope"  # browsed, verified, but outside their regions or fields
    DAILY_LIMIT = "daily_limit"
    OPEN_LIMIT = "open_limit"


class AcceptRefused(StoreError):
    """The expert may not accept this order; *reason* says which rule, nothing of the order."""

    code = "accept_refused"

    def __init__(self, order_id: int, expert_id: int | None, reason: Refusal) -> None:
        self.order_id, self.expert_id, self.reason = order_id, expert_id, reason
        super().__init__(f"user {expert_id} may not accept order {order_id}: {reason.value}")


# ---- verification ---------------------------------------------------------------------------
def latest_review(*, session: Session, expert_id: int) -> ExpertReview | None:
    """The latest decision about the expert, or None when nobody has decided yet."""
    stmt = (
        select(ExpertReview)
        .where(ExpertReview.expert_id == expert_id)
        .order_by(col(ExpertReview.id).desc())
        .limit(1)
    )
    return session.exec(stmt).first()


def is_verified(*, session: Session, expert_id: int) -> bool:
    review = latest_review(session=session, expert_id=expert_id)
    return review is not None and review.decision == Decision.VERIFIED


def review_expert(
    *,
    session: Session,
    expert_id: int,
    decision: Decision,
    decided_by: int | None,
    unit: str = "",
    reason: str = "",
    now: datetime | None = None,
) -> ExpertReview:
    """Record an administrator's decision (verified or rejected) with its unit or reason.

    Raises:
        InvalidInput: *expert_id* has no expert profile.
    """
    profile = session.exec(
        select(ExpertProfile.id).where(ExpertProfile.user_id == expert_id)
    ).first()
    if profile is None:
        raise InvalidInput("expert_id", expert_id, "no expert profile")
    review = ExpertReview(
        expert_id=expert_id,
        decision=Decision(decision).value,
        unit=unit.strip()[:128],
        reason=reason.strip()[:500],
        decided_by=decided_by,
        at=now or utcnow(),
    )
    session.add(review)
    session.commit()
    session.refresh(review)
    return review


def pending_experts(*, session: Session, limit: int = 50) -> list[tuple[ExpertProfile, User]]:
    """Experts nobody has decided about yet, oldest registration first."""
    reviewed = select(ExpertReview.expert_id)
    stmt = (
        select(ExpertProfile, User)
        .where(col(ExpertProfile.user_id) == col(User.id))
        .where(col(ExpertProfile.user_id).not_in(reviewed))
        .order_by(col(ExpertProfile.id))
        .limit(limit)
    )
    return [(p, u) for p, u in session.exec(stmt).all()]


# ---- suspension ------------------------------------------------------------------------------
def is_suspended(*, session: Session, user_id: int) -> bool:
    stmt = select(Suspension.id).where(
        Suspension.user_id == user_id, col(Suspension.lifted_at).is_(None)
    )
    return session.exec(stmt.limit(1)).first() is not None


def suspended_ids(*, session: Session) -> set[int]:
    """Everyone suspended now (they are not notified of new needs)."""
    stmt = select(Suspension.user_id).where(col(Suspension.lifted_at).is_(None))
    return set(session.exec(stmt).all())


def suspend(
    *,
    session: Session,
    user_id: int,
    decided_by: int | None,
    reason: str = "",
    now: datetime | None = None,
) -> bool:
    """Suspend the account; False when it already was."""
    if is_suspended(session=session, user_id=user_id):
        return False
    session.add(
        Suspension(
            user_id=user_id, reason=reason.strip()[:500], decided_by=decided_by, at=now or utcnow()
        )
    )
    session.commit()
    return True


def unsuspend(
    *, session: Session, user_id: int, decided_by: int | None, now: datetime | None = None
) -> bool:
    """Lift the suspension; False when the account was not suspended."""
    result = session.execute(
        update(Suspension)
        .where(col(Suspension.user_id) == user_id, col(Suspension.lifted_at).is_(None))
        .values(lifted_at=now or utcnow(), lifted_by=decided_by)
    )
    session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]


# ---- who may accept ------------------------------------------------------------------------
def day_start(now: datetime) -> datetime:
    """Midnight (Beijing time) of the platform day *now* falls in, in UTC."""
    local = as_utc(now) + DAY_OFFSET
    return local.replace(hour=0, minute=0, second=0, microsecond=0) - DAY_OFFSET


def accepts_today(*, session: Session, expert_id: int, now: datetime | None = None) -> int:
    """Orders the expert accepted since midnight (released ones count too)."""
    stmt = select(func.count()).where(
        OrderEvent.actor_id == expert_id,
        OrderEvent.action == Action.ACCEPT.value,
        col(OrderEvent.at) >= day_start(now or utcnow()),
    )
    return int(session.exec(stmt).one())


def open_orders(*, session: Session, expert_id: int) -> int:
    """Orders the expert has accepted and not yet resolved."""
    stmt = select(func.count()).where(
        Order.expert_id == expert_id, Order.status == OrderStatus.ACCEPTED.value
    )
    return int(session.exec(stmt).one())


def check_accept(
    *,
    session: Session,
    order_id: int,
    expert_id: int,
    rules: MarketRules,
    in_scope: bool,
    now: datetime | None = None,
) -> None:
    """Whether *expert_id* may accept *order_id* now; the desk calls this before accepting.

    *in_scope*: the order's need lies in the expert's service regions and fields (the
    matching desk knows the cards). An expert who said 不合适 or was replaced (换一位) on
    this order counts as not notified.

    Raises:
        AcceptRefused: naming the rule, never anything about the order.
    """
    if is_suspended(session=session, user_id=expert_id):
        raise AcceptRefused(order_id, expert_id, Refusal.SUSPENDED)
    declined = session.exec(
        select(OrderNotification.declined).where(
            OrderNotification.order_id == order_id, OrderNotification.expert_id == expert_id
        )
    ).first()
    if declined is None or declined:
        if declined or not (
            rules.unverified_may_browse_accept or is_verified(session=session, expert_id=expert_id)
        ):
            raise AcceptRefused(order_id, expert_id, Refusal.NOT_NOTIFIED)
        if not in_scope:
            raise AcceptRefused(order_id, expert_id, Refusal.OUT_OF_SCOPE)
    if accepts_today(session=session, expert_id=expert_id, now=now) >= rules.accepts_per_day:
        raise AcceptRefused(order_id, expert_id, Refusal.DAILY_LIMIT)
    if open_orders(session=session, expert_id=expert_id) >= rules.max_open_orders:
        raise AcceptRefused(order_id, expert_id, Refusal.OPEN_LIMIT)


# ---- contacts and reports ------------------------------------------------------------------
def record_contacts(
    *,
    session: Session,
    order_id: int,
    pairs: list[tuple[int, int]],
    now: datetime | None = None,
) -> None:
    """Remember that each (viewer, subject) pair was given the subject's phone for the order."""
    at = now or utcnow()
    for viewer, subject in pairs:
        seen = session.exec(
            select(ContactView.id).where(
                ContactView.order_id == order_id,
                ContactView.viewer_id == viewer,
                ContactView.subject_id == subject,
            )
        ).first()
        if seen is None:
            session.add(
                ContactView(order_id=order_id, viewer_id=viewer, subject_id=subject, at=at)
            )
    session.commit()


def contact_views(*, session: Session, user_id: int) -> list[ContactView]:
    """Whose contact this person saw and who saw theirs, oldest first."""
    stmt = (
        select(ContactView)
        .where(or_(ContactView.viewer_id == user_id, ContactView.subject_id == user_id))
        .order_by(col(ContactView.id))
    )
    return list(session.exec(stmt).all())


def report(
    *,
    session: Session,
    order_id: int,
    reporter_id: int,
    reported_id: int,
    reason: str,
    now: datetime | None = None,
) -> Report:
    row = Report(
        order_id=order_id,
        reporter_id=reporter_id,
        reported_id=reported_id,
        reason=reason.strip()[:1000],
        at=now or utcnow(),
    )
    session.add(row)
    session.commit()
    session.refresh(row)
    return row


def reports_on(*, session: Session, user_id: int) -> list[Report]:
    stmt = select(Report).where(Report.reported_id == user_id).order_by(col(Report.id))
    return list(session.exec(stmt).all())


def recent_reports(*, session: Session, limit: int = 20) -> list[tuple[Report, User, User]]:
    """The latest reports, newest first, each with the reported person and the reporter."""
    reported, reporter = aliased(User), aliased(User)
    stmt = (
        select(Report, reported, reporter)
        .where(col(Report.reported_id) == reported.id, col(Report.reporter_id) == reporter.id)
        .order_by(col(Report.id).desc())
        .limit(limit)
    )
    return [(r, a, b) for r, a, b in session.exec(stmt).all()]


def find_person(*, session: Session, ref: str) -> User | None:
    """The user an administrator names: a user id, a channel id, or an unambiguous name."""
    ref = ref.strip().lstrip("#")
    if ref.isdigit() and len(ref) <= 9:
        user = session.get(User, int(ref))
        if user is not None:
            return user
    by_ext = session.exec(select(User).where(User.external_id == ref)).all()
    if len(by_ext) == 1:
        return by_ext[0]
    by_name = session.exec(select(User).where(User.display_name == ref).limit(2)).all()
    return by_name[0] if len(by_name) == 1 else None
