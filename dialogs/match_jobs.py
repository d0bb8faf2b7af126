"""The matching desk's scheduled jobs: re-match orders nobody took in time (wider each
round), retry needs no expert fitted yet, expire after the widest, auto-close resolved orders."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from sqlmodel import Session

from dialogs.i18n import t
from dialogs.notices import tell
from dialogs.types import Outcome
from retrieval.matching import Scope
from store import orders as o
from store.clock import as_utc, utcnow
from store.errors import NotFound
from store.lifecycle import InvalidTransition, OrderStatus
from store.needs import Need, get_need
from store.order_reads import get_order, order_ids
from store.order_tables import Order
from store.users import get_user

# a need waiting with no expert at all is given up after this many match timeouts
POSTED_ROUNDS = 3


class Matching(Protocol):
    """What the jobs use of the matching desk (:class:`dialogs.matching.MatchDesk`)."""

    __slots__ = ()

    match_timeout: timedelta
    auto_close_days: int

    def match(
        self,
        session: Session,
        need: Need,
        order: Order,
        scope: Scope,
        *,
        locale: str = "zh",
        now: datetime | None = None,
    ) -> Outcome: ...


class MatchJobs(Matching):
    """The jobs, a base of the matching desk (its ``run_due`` is the scheduler's entry)."""

    __slots__ = ()

    def run_due(
        self, session_factory: Callable[[], Session], now: datetime | None = None
    ) -> Outcome:
        """Re-match orders nobody took in time (wider each round), retry needs that found no
        expert yet, expire after the widest, auto-close resolved orders. Safe when several
        loops run at once."""
        now = now or utcnow()
        out = Outcome()
        cutoff = now - self.match_timeout
        with session_factory() as session:
            for order_id in order_ids(
                session=session, statuses=(OrderStatus.MATCHED,), updated_before=cutoff
            ):
                self._rematch(session, get_order(session=session, order_id=order_id), now, out)
            for order_id in order_ids(session=session, statuses=(OrderStatus.POSTED,)):
                self._retry_posted(
                    session, get_order(session=session, order_id=order_id), now, out
                )
            for order_id in o.auto_close_due(session=session, days=self.auto_close_days, now=now):
                closed = get_order(session=session, order_id=order_id)
                for uid in (closed.requester_id, closed.expert_id):
                    tell(
                        out,
                        session,
                        uid,
                        "auto_closed",
                        kind="closed",
                        id=order_id,
                        days=self.auto_close_days,
                    )
        return out

    def _retry_posted(self, session: Session, order: Order, now: datetime, out: Outcome) -> None:
        """A need no expert fitted when posted: try again (experts may have registered since);
        give up after a few timeouts and tell the requester."""
        if order.id is None:
            return
        try:
            need = get_need(session=session, need_id=order.need_id)
            requester = get_user(session=session, user_id=order.requester_id)
        except NotFound:
            return
        result = self.match(session, need, order, Scope.CITY, locale=requester.locale, now=now)
        if result.outbound:
            tell(
                out,
                session,
                requester.id,
                "found_later",
                kind="rematched",
                id=order.id,
                n=len(result.outbound),
            )
            out.outbound.extend(result.outbound)
            return
        if now - as_utc(order.created_at) >= self.match_timeout * POSTED_ROUNDS:
            try:
                o.expire(session=session, order_id=order.id, now=now)
            except InvalidTransition:
                return
            tell(out, session, requester.id, "expired", kind="expired", id=order.id)

    def _rematch(self, session: Session, order: Order, now: datetime, out: Outcome) -> None:
        try:
            need = get_need(session=session, need_id=order.need_id)
            requester = get_user(session=session, user_id=order.requester_id)
        except NotFound:
            return
        if order.id is None:
            return
        # round r looked at Scope(r); the next round looks one step wider, until ANYWHERE
        scope = Scope(order.match_round + 1) if order.match_round < Scope.ANYWHERE else None
        if scope is None:
            try:
                o.expire(session=session, order_id=order.id, now=now)
            except InvalidTransition:
                return
            tell(out, session, requester.id, "expired", kind="expired", id=order.id)
            return
        result = self.match(session, need, order, scope, locale=requester.locale, now=now)
        new = result.outbound
        if not new:
            # nobody new even wider: count the round so the next pass moves on
            try:
                o.mark_matched(
                    session=session, order_id=order.id, note=f"scope={scope.name.lower()}", now=now
                )
            except InvalidTransition:
                return
            return
        label = t(
            "scope_province" if scope == Scope.PROVINCE else "scope_anywhere", requester.locale
        )
        tell(
            out,
            session,
            requester.id,
            "rematched",
            kind="rematched",
            id=order.id,
            scope=label,
            n=len(new),
        )
        out.outbound.extend(new)
