"""Matchmaking: expert cards from the store, notifying the best experts for a need, and the
scheduled re-match / expiry / auto-close jobs."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, func, select

from dialogs.context import Turn
from dialogs.i18n import t
from dialogs.types import Button, Outbound, Outcome
from knowledge.lexicons import default_lexicon
from retrieval.matching import ExpertCard, ExpertMatcher, NeedQuery, Scope
from store import orders as o
from store.clock import utcnow
from store.experts import ExpertProfile
from store.lifecycle import InvalidTransition, OrderStatus
from store.needs import Need
from store.notifications import notified_experts, record_notified
from store.region import Region
from store.users import User

log = logging.getLogger(__name__)
PHONE = re.compile(r"1[3-9]\d{9}|0\d{2,3}-?\d{7,8}")

# crop group -> another word experts use for it in their fields (果树栽培, 畜牧兽医 ...)
CROP_GROUPS = {
    "果树": "水果",
    "蔬菜": "设施",
    "粮油": "粮食",
    "经济作物": "中药材",
    "食用菌": "菌",
    "畜禽": "畜牧",
    "水产": "渔",
}


@dataclass(slots=True)
class Matchmaker:
    """Ranks and notifies experts; the base of the order desk."""

    matcher: ExpertMatcher | None = None
    top_n: int = 5
    match_timeout: timedelta = timedelta(hours=2)
    auto_close_days: int = 7
    lexicon_categories: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.lexicon_categories:
            self.lexicon_categories = dict(default_lexicon().fields)

    # ---- expert cards ------------------------------------------------------------------
    def card_for(self, session: Session, user_id: int) -> ExpertCard | None:
        cards = self.load_cards(session, user_ids=[user_id])
        return cards[0] if cards else None

    def load_cards(self, session: Session, user_ids: list[int] | None = None) -> list[ExpertCard]:
        stmt = select(ExpertProfile, User).where(col(ExpertProfile.user_id) == col(User.id))
        if user_ids is not None:
            stmt = stmt.where(col(ExpertProfile.user_id).in_(user_ids))
        load = dict(
            session.exec(
                select(o.Order.expert_id, func.count())
                .where(o.Order.status == OrderStatus.ACCEPTED)
                .group_by(col(o.Order.expert_id))
            ).all()
        )
        cards = []
        for profile, user in session.exec(stmt).all():
            terms = (*profile.fields, *profile.skills)
            cats = {self.lexicon_categories.get(f) for f in terms}
            groups = tuple(
                g for g in CROP_GROUPS if any(g in f or CROP_GROUPS[g] in f for f in terms)
            )
            cards.append(
                ExpertCard(
                    user_id=user.id or 0,
                    name=user.display_name,
                    organisation=profile.organisation,
                    title=profile.title,
                    fields=tuple(profile.fields),
                    skills=tuple(profile.skills),
                    crops=tuple(profile.crops),
                    crop_groups=groups,
                    categories=tuple(sorted(c for c in cats if c)),
                    home=Region(user.province, user.city, user.county),
                    regions=tuple(Region(**r) for r in profile.service_regions),
                    available=profile.available,
                    open_orders=int(load.get(user.id, 0)),
                    rating_avg=profile.rating_avg,
                )
            )
        return cards

    # ---- matching ------------------------------------------------------------------------
    def on_need_posted(self, turn: Turn, posted: Any) -> None:
        need: Need = posted.need
        order: o.Order = posted.order
        out = self.match(turn.session, need, order, Scope.CITY, locale=turn.locale)
        turn.out.outbound.extend(out.outbound)
        for reply in out.replies:
            turn.say(reply.text)

    def match(
        self, session: Session, need: Need, order: o.Order, scope: Scope, *, locale: str = "zh"
    ) -> Outcome:
        """Notify the best experts not yet told, widening the scope until someone fits."""
        out = Outcome()
        if self.matcher is None or order.id is None:
            out.say(t("no_expert_yet", locale))
            return out
        already = set(notified_experts(session=session, order_id=order.id))
        group = (
            default_lexicon().crops[need.crop].kind if need.crop in default_lexicon().crops else ""
        )
        query = NeedQuery(
            need.text,
            need.crop,
            need.category,
            Region(need.province, need.city, need.county),
            group,
        )
        matches = []
        while True:
            matches = self.matcher.rank(
                query,
                k=self.top_n,
                scope=scope,
                exclude=already | {need.requester_id},
                locale=locale,
            )
            if matches or scope == Scope.ANYWHERE:
                break
            scope = Scope(scope + 1)
        if not matches:
            out.say(t("no_expert_yet", locale))
            return out
        try:
            o.mark_matched(session=session, order_id=order.id, note=f"scope={scope.name.lower()}")
        except InvalidTransition:
            return out  # accepted, cancelled or matched by another loop meanwhile
        new = record_notified(
            session=session,
            order_id=order.id,
            round_=scope.value,
            matches=[(m.user_id, m.score, m.reason) for m in matches],
        )
        experts = {u.id: u for u in session.exec(select(User).where(col(User.id).in_(new))).all()}
        summary = need_summary(need)
        lines = []
        for m in matches:
            user = experts.get(m.user_id)
            if user is None:
                continue
            card = self.matcher.cards.get(m.user_id)
            org = f"（{card.organisation}）" if card and card.organisation else ""
            lines.append(f"· {user.display_name}{org}：{m.reason}")
            out.outbound.append(
                Outbound(
                    channel=user.channel,
                    external_id=user.external_id,
                    text=t("new_need", user.locale, id=order.id, summary=summary, reason=m.reason),
                    buttons=[
                        [
                            Button(t("btn_accept", user.locale), f"accept:{order.id}"),
                            Button(t("btn_decline", user.locale), f"decline:{order.id}"),
                        ]
                    ],
                    kind="new_need",
                    ref=f"order:{order.id}",
                )
            )
        out.say(t("notified", locale, n=len(lines), lines="\n".join(lines)))
        return out

    # ---- scheduled jobs -----------------------------------------------------------------
    def run_due(
        self, session_factory: Callable[[], Session], now: datetime | None = None
    ) -> Outcome:
        """Re-match orders nobody took in time (wider each round), expire after the widest,
        auto-close resolved orders. Safe when several loops run at once."""
        now = now or utcnow()
        out = Outcome()
        cutoff = now - self.match_timeout
        with session_factory() as session:
            stale = session.exec(
                select(o.Order).where(
                    o.Order.status == OrderStatus.MATCHED, col(o.Order.updated_at) < cutoff
                )
            ).all()
            for order in stale:
                self._rematch(session, order, now, out)
            for order_id in o.auto_close_due(session=session, days=self.auto_close_days, now=now):
                closed = session.get(o.Order, order_id)
                for uid in (closed.requester_id, closed.expert_id) if closed else ():
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

    def _rematch(self, session: Session, order: o.Order, now: datetime, out: Outcome) -> None:
        need = session.get(Need, order.need_id)
        requester = session.get(User, order.requester_id)
        if need is None or requester is None or order.id is None:
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
        result = self.match(session, need, order, scope, locale=requester.locale)
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


def tell(
    out: Outcome,
    session: Session,
    user_id: int | None,
    key: str,
    *,
    kind: str,
    ref: str = "",
    **values: Any,
) -> None:
    """Queue a message for another person, in their own language (no-op for nobody)."""
    user = session.get(User, user_id) if user_id else None
    if user is not None:
        text = t(key, user.locale, **values)
        out.outbound.append(Outbound(user.channel, user.external_id, text, kind=kind, ref=ref))


def need_summary(need: Need) -> str:
    region = need.county or need.city or need.province
    bits = [x for x in (region, need.crop) if x]
    text = need.text if len(need.text) <= 60 else need.text[:60] + "…"
    text = PHONE.sub("***", text)  # never show the contact before acceptance
    return f"{' · '.join(bits)} · {text}" if bits else text
