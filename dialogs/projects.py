"""The projects desk (找项目): experts browse open needs that fit their fields and regions,
enterprises' paid projects with their budgets among them, and subscribe to a weekly digest
that goes out through the push channel. Nothing shown carries the requester's contact."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from dialogs.actions import Act, Action
from dialogs.context import Turn
from dialogs.i18n import t
from dialogs.notices import need_summary
from dialogs.orders import OrderDesk
from dialogs.push import in_window
from dialogs.types import Button, Outbound, Outcome
from store.clock import as_utc, utcnow
from store.order_reads import open_needs
from store.push import (
    digest_key,
    digested,
    project_subscriber_ids,
    record_pushes,
    subscribe_projects,
    unsubscribe_projects,
)
from store.users import Role, users_by_id

log = logging.getLogger(__name__)

DIGEST_LINES = 8
_STOP = re.compile(r"退订|取消订阅|不要.{0,4}(?:推|发|周报)|别.{0,2}(?:推|发)|关闭")
_SUBSCRIBE = re.compile(r"订阅|周报|每周|定期|推送|推给我|通知我|提醒我")


@dataclass(slots=True)
class ProjectDesk:
    """Browsing is the order desk's (who may take what); subscriptions and the digest are
    this desk's.

    Args:
        orders: browsing open needs and the rules on who may take them.
        window: local hours in which digests go out; timezone: their zone.
    """

    orders: OrderDesk
    window: tuple[time, time] = (time(8), time(20))
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))

    def on_text(self, turn: Turn, text: str) -> None:
        if not turn.user.has_role(Role.EXPERT):
            turn.say(turn.t("not_expert"))
            return
        uid = turn.user.id or 0
        if _STOP.search(text):
            unsubscribe_projects(session=turn.session, user_id=uid)
            turn.say(turn.t("projects_unsubscribed"))
        elif _SUBSCRIBE.search(text):
            subscribe_projects(session=turn.session, user_id=uid)
            turn.say(turn.t("projects_subscribed"))
        else:
            self.orders.browse(turn)

    def run_due(
        self, session_factory: Callable[[], Session], now: datetime | None = None
    ) -> Outcome:
        """The weekly digest: once per ISO week, each subscribed expert gets the open needs of
        the past week that fit them (none fit: no message)."""
        now = now or utcnow()
        out = Outcome()
        if not in_window(now.astimezone(self.timezone).time(), self.window):
            return out
        since = now - timedelta(days=7)
        key = digest_key(now.astimezone(self.timezone))
        matching = self.orders.matching
        with session_factory() as session:
            done = digested(session=session, key=key)
            experts = [u for u in project_subscriber_ids(session=session) if u not in done]
            if not experts:
                return out
            fresh = [
                (order, need, matching.fields_in(need.text))
                for order, need in open_needs(session=session, exclude_requester=0)
                if as_utc(need.created_at) >= since
            ]
            matching.refresh(session)  # once: the cards are read in memory below
            planned: list[tuple[int, list[tuple[int, str]]]] = []
            for uid in experts:
                card = matching.matcher.cards.get(uid)
                if card is None:
                    continue
                fits = [
                    (order.id or 0, need_summary(need))
                    for order, need, named in fresh
                    if need.requester_id != uid and matching.fits(card, need, named)
                ]
                if fits:
                    planned.append((uid, fits[:DIGEST_LINES]))
            if not planned:
                return out
            ids = record_pushes(
                session=session, pushes=[(uid, key, "") for uid, _ in planned], at=now
            )
            if not ids:
                return out  # this week's digests are planned already (another loop)
            people = users_by_id(session=session, user_ids=[uid for uid, _ in planned])
            for uid, fits in planned:
                user = people.get(uid)
                if user is None:
                    continue
                lines = [t("digest_head", user.locale, n=len(fits))]
                lines += [t("digest_line", user.locale, id=i, text=s) for i, s in fits]
                lines.append(t("digest_tail", user.locale))
                take = t("btn_accept", user.locale)
                buttons = [
                    [Button(f"{take} #{i}", Action(Act.ACCEPT, order_id=i))] for i, _ in fits[:3]
                ]
                out.outbound.append(
                    Outbound(user.channel, user.external_id, "\n".join(lines), buttons, "digest")
                )
        log.info("project digest planned for %d experts", len(out.outbound))
        return out
