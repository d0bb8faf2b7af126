"""The order desk: matching a posted need to experts, 接单, resolving, rating, cancelling,
listing, browsing, and the scheduled re-match / expiry / auto-close jobs."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from dialogs.context import Turn
from dialogs.i18n import t
from dialogs.matchmaking import PHONE, Matchmaker, need_summary, tell
from dialogs.nlu.numbers import chinese_to_int
from dialogs.types import Button, Outbound
from store import orders as o
from store.clock import as_utc
from store.errors import InvalidInput, NotFound
from store.experts import ExpertProfile
from store.lifecycle import (
    UNMET_STATUSES,
    AlreadyTaken,
    InvalidTransition,
    NotPermitted,
    OrderStatus,
)
from store.needs import Need
from store.notifications import OrderNotification, decline, notified_experts
from store.users import Role, User
from store.validation import Region

log = logging.getLogger(__name__)

_ID = re.compile(r"#?\s*(\d{1,9})")
_ACCEPT = re.compile(
    r"^\s*(?:接单|接)\s*#?\s*(\d+)?\s*(?:号)?\s*$|(\d+)\s*号?.{0,3}我接了|我接了?\s*#?(\d+)"
)
_DECLINE = re.compile(r"^\s*不合适\s*#?\s*(\d+)?\s*$")
_RESOLVE = re.compile(r"(?:已经?解决|解决了|搞定了?|弄好了?|处理好了?|完成了)")
_RATE = re.compile(r"评价|打分|评分|好评|差评|颗星|星|分")
_CANCEL = re.compile(r"取消|撤了|撤销|不要了")
_LIST = re.compile(
    r"^\s*/orders\s*$|我的订单|我的单|订单列表|我接的单|我接了哪些|我发的需求|有没得人接|有人接"
)
_SHOW = re.compile(
    r"^\s*/order\s+#?(\d+)|(?:查看|看下|看看)?订单\s*#?(\d+)|需求\s*#?(\d+)\s*(?:进度|怎么样)"
)
_BROWSE = re.compile(r"^\s*/needs\s*$|找项目|看需求|有什么需求|有哪些需求|待接|接活")
_SCORE = re.compile(r"([1-5一二三四五])\s*(?:星|分|颗星)|(?:打|给|评)\s*([1-5一二三四五])")


@dataclass(slots=True)
class OrderDesk(Matchmaker):
    """Order commands and notifications, used as an :class:`Assistant` hook."""

    # ---- hook entry --------------------------------------------------------------------
    def __call__(self, turn: Turn, event: str, payload: object) -> None:
        if event == "need_posted":
            self.on_need_posted(turn, payload)
        elif event == "order":
            self.on_text(turn, str(getattr(payload, "text", "")))
        elif event == "action":
            self.on_action(turn, str(payload))
        elif event == "expert_saved" and self.matcher is not None:
            card = self.card_for(turn.session, turn.user.id or 0)
            if card is not None:
                self.matcher.upsert(card)

    # ---- text commands ---------------------------------------------------------------------
    def on_text(self, turn: Turn, text: str) -> None:
        clean = PHONE.sub(" ", text)
        ref_id = _ref_order(turn.incoming.reply_to_ref)
        if _CANCEL.search(clean):
            self.cancel(turn, _first_id(clean) or self._only_open(turn, as_expert=False))
        elif m := _SHOW.search(clean):
            self.show(turn, int(next(g for g in m.groups() if g)))
        elif _BROWSE.search(clean) and not _ID.search(clean):
            self.browse(turn)
        elif _LIST.search(clean):
            self.list_orders(turn)
        elif m := _ACCEPT.search(clean):
            given = next((g for g in m.groups() if g), None)
            self.accept(turn, int(given) if given else ref_id or self._only_pending(turn))
        elif m := _DECLINE.search(clean):
            self.decline(turn, int(m.group(1)) if m.group(1) else ref_id)
        elif _RESOLVE.search(clean):
            order_id = _first_id(clean) or ref_id or self._only_open(turn, as_expert=True)
            note = _RESOLVE.split(_ID.sub(" ", clean, count=1), maxsplit=1)[-1].strip(" ，,。")
            self.resolve(turn, order_id, note)
        elif _RATE.search(clean):
            order_id = _first_id(_SCORE.sub(" ", clean)) or self._only_resolved(turn)
            score = _score(clean)
            comment = _SCORE.sub(" ", _ID.sub(" ", clean)).strip()
            comment = re.sub(r"评价|打分|评分|好评|给|号单|单|[，,。\s]+", " ", comment).strip()
            self.rate(turn, order_id, score, comment)
        else:
            self.list_orders(turn)

    def on_action(self, turn: Turn, action: str) -> None:
        name, _, rest = action.partition(":")
        parts = rest.split(":")
        try:
            order_id = int(parts[0]) if parts and parts[0] else None
        except ValueError:
            return
        if name == "accept":
            self.accept(turn, order_id)
        elif name == "decline":
            self.decline(turn, order_id)
        elif name == "resolve":
            self.resolve(turn, order_id, "")
        elif name == "rate" and len(parts) == 2:
            self.rate(turn, order_id, chinese_to_int(parts[1]), "")
        elif name == "cancel_order":
            self.cancel(turn, order_id)

    # ---- the moves -------------------------------------------------------------------------
    def accept(self, turn: Turn, order_id: int | None) -> None:
        user = turn.user
        if not user.has_role(Role.EXPERT):
            turn.say(turn.t("not_expert"))
            return
        order = _move(
            turn,
            order_id,
            lambda oid: o.accept(session=turn.session, order_id=oid, expert=user),
            "cannot_accept_state",
            refused="own_need",
        )
        if order is None or order_id is None:
            return
        session = turn.session
        need = session.get(Need, order.need_id)
        requester = session.get(User, order.requester_id)
        profile = session.exec(
            select(ExpertProfile).where(ExpertProfile.user_id == user.id)
        ).first()
        assert need is not None and requester is not None
        region = Region(need.province, need.city, need.county).label
        turn.say(
            turn.t(
                "accepted_expert",
                id=order_id,
                name=requester.display_name or "需求方",
                phone=need.contact_phone,
                region=region,
                text=need.text,
            ),
            [[Button(turn.t("btn_resolve"), f"resolve:{order_id}")]],
        )
        org = ""
        if profile is not None and (profile.organisation or profile.title):
            org = f"（{' '.join(x for x in (profile.organisation, profile.title) if x)}）"
        tell(
            turn.out,
            session,
            requester.id,
            "accepted_requester",
            kind="accepted",
            ref=f"order:{order_id}",
            id=order_id,
            name=user.display_name,
            org=org,
            phone=user.phone or "-",
        )
        for expert_id in notified_experts(session=session, order_id=order_id):
            if expert_id != user.id:
                tell(turn.out, session, expert_id, "taken_others", kind="taken", id=order_id)
        if self.matcher is not None and user.id in self.matcher.cards:
            self.matcher.cards[user.id].open_orders += 1

    def decline(self, turn: Turn, order_id: int | None) -> None:
        if order_id is None:
            turn.say(turn.t("which_order"))
            return
        decline(session=turn.session, order_id=order_id, expert_id=turn.user.id or 0)
        turn.say(turn.t("declined", id=order_id))

    def resolve(self, turn: Turn, order_id: int | None, note: str) -> None:
        order = _move(
            turn,
            order_id,
            lambda oid: o.resolve(session=turn.session, order_id=oid, expert=turn.user, note=note),
            "cannot_resolve_state",
        )
        if order is None:
            return
        turn.say(turn.t("resolved_expert", id=order_id))
        requester = turn.session.get(User, order.requester_id)
        if requester is not None:
            shown = f"：{note}" if note else ""
            turn.out.outbound.append(
                Outbound(
                    requester.channel,
                    requester.external_id,
                    t("resolved_requester", requester.locale, id=order_id, note=shown),
                    buttons=[
                        [
                            Button(
                                f"{n}星" if requester.locale == "zh" else f"{n}★",
                                f"rate:{order_id}:{n}",
                            )
                            for n in range(1, 6)
                        ]
                    ],
                    kind="rate",
                    ref=f"order:{order_id}",
                )
            )
        if self.matcher is not None and turn.user.id in self.matcher.cards:
            card = self.matcher.cards[turn.user.id]
            card.open_orders = max(0, card.open_orders - 1)

    def rate(self, turn: Turn, order_id: int | None, score: int | None, comment: str) -> None:
        if order_id is not None and (score is None or not 1 <= score <= 5):
            turn.say(turn.t("bad_score", id=order_id))
            return
        order = _move(
            turn,
            order_id,
            lambda oid: o.close(
                session=turn.session,
                order_id=oid,
                requester=turn.user,
                score=score or 0,
                comment=comment,
            ),
            "cannot_rate_state",
        )
        if order is None:
            return
        turn.say(turn.t("rated", id=order_id))
        shown = f"：{comment}" if comment else ""
        tell(
            turn.out,
            turn.session,
            order.expert_id,
            "rated_expert",
            kind="rated",
            id=order_id,
            score=score,
            comment=shown,
        )
        if self.matcher is not None and order.expert_id in self.matcher.cards:
            refreshed = self.card_for(turn.session, order.expert_id or 0)
            if refreshed is not None:
                self.matcher.cards[refreshed.user_id] = refreshed

    def cancel(self, turn: Turn, order_id: int | None) -> None:
        order = _move(
            turn,
            order_id,
            lambda oid: o.cancel(session=turn.session, order_id=oid, requester=turn.user),
            "cannot_cancel_state",
        )
        if order is None:
            return
        turn.say(turn.t("cancelled_order", id=order_id))
        tell(
            turn.out,
            turn.session,
            order.expert_id,
            "cancelled_expert",
            kind="cancelled",
            id=order_id,
        )

    # ---- reading -------------------------------------------------------------------------------
    def list_orders(self, turn: Turn) -> None:
        uid = turn.user.id or 0
        rows = o.orders_of(session=turn.session, user_id=uid)[:20]
        if not rows:
            turn.say(turn.t("orders_none"))
            return
        needs = {
            n.id: n
            for n in turn.session.exec(
                select(Need).where(col(Need.id).in_([r.need_id for r in rows]))
            ).all()
        }
        lines = [turn.t("orders_head")]
        for r in rows:
            need = needs.get(r.need_id)
            role = turn.t("role_requester" if r.requester_id == uid else "role_expert")
            text = (
                (need.text[:24] + "…")
                if need and len(need.text) > 24
                else (need.text if need else "")
            )
            lines.append(
                turn.t(
                    "order_line",
                    id=r.id,
                    role=role,
                    status=turn.t(f"status_{r.status}"),
                    text=text,
                )
            )
        turn.say("\n".join(lines))

    def show(self, turn: Turn, order_id: int) -> None:
        try:
            order = o.get_order(session=turn.session, order_id=order_id)
        except NotFound:
            turn.say(turn.t("no_order", id=order_id))
            return
        if turn.user.id not in (order.requester_id, order.expert_id):
            turn.say(turn.t("not_your_order", id=order_id))
            return
        lines = [turn.t("timeline_head", id=order_id, status=turn.t(f"status_{order.status}"))]
        for ev in o.timeline(session=turn.session, order_id=order_id):
            when = _local(ev.at).strftime("%m-%d %H:%M")
            note = f"：{ev.note}" if ev.note and not ev.note.startswith("scope=") else ""
            lines.append(f"· {when} {turn.t(f'event_{ev.action}')}{note}")
        turn.say("\n".join(lines))

    def browse(self, turn: Turn) -> None:
        user = turn.user
        if not user.has_role(Role.EXPERT) or self.matcher is None:
            turn.say(turn.t("not_expert"))
            return
        card = self.matcher.cards.get(user.id or 0) or self.card_for(turn.session, user.id or 0)
        if card is None:
            turn.say(turn.t("not_expert"))
            return
        open_states = [s.value for s in UNMET_STATUSES]
        rows = turn.session.exec(
            select(Need, o.Order)
            .where(col(Need.id) == col(o.Order.need_id), col(o.Order.status).in_(open_states))
            .where(col(Need.requester_id) != user.id)
            .order_by(col(Need.id).desc())
            .limit(500)
        ).all()
        fits = []
        for need, order in rows:
            level, _ = self.matcher.region_level(
                card, Region(need.province, need.city, need.county)
            )
            if level == "elsewhere":
                continue
            topical = need.crop in card.crops or need.category in card.categories
            fits.append(
                (
                    0 if topical else 1,
                    {"county": 0, "city": 1, "province": 2}[level],
                    -(need.id or 0),
                    need,
                    order,
                )
            )
        fits.sort(key=lambda x: x[:3])
        if not fits:
            turn.say(turn.t("needs_none"))
            return
        lines = [turn.t("needs_head")]
        buttons = []
        for *_, need, order in fits[:8]:
            region = need.county or need.city or need.province
            lines.append(turn.t("need_line", id=order.id, region=region, text=need_summary(need)))
            buttons.append([Button(f"{turn.t('btn_accept')} #{order.id}", f"accept:{order.id}")])
        turn.say("\n".join(lines), buttons)

    # ---- helpers --------------------------------------------------------------------------------
    def _only_pending(self, turn: Turn) -> int | None:
        """The one open order this expert was notified about, if there is exactly one."""
        stmt = (
            select(o.Order.id)
            .join(OrderNotification, col(OrderNotification.order_id) == col(o.Order.id))
            .where(OrderNotification.expert_id == turn.user.id)
            .where(col(o.Order.status).in_([OrderStatus.POSTED.value, OrderStatus.MATCHED.value]))
        )
        ids = list(turn.session.exec(stmt).all())
        return ids[0] if len(ids) == 1 else None

    def _only_open(self, turn: Turn, *, as_expert: bool) -> int | None:
        uid = turn.user.id
        stmt = select(o.Order.id)
        if as_expert:
            stmt = stmt.where(o.Order.expert_id == uid, o.Order.status == OrderStatus.ACCEPTED)
        else:
            stmt = stmt.where(o.Order.requester_id == uid).where(
                col(o.Order.status).in_(
                    [
                        OrderStatus.POSTED.value,
                        OrderStatus.MATCHED.value,
                        OrderStatus.ACCEPTED.value,
                    ]
                )
            )
        ids = list(turn.session.exec(stmt).all())
        return ids[0] if len(ids) == 1 else None

    def _only_resolved(self, turn: Turn) -> int | None:
        stmt = select(o.Order.id).where(
            o.Order.requester_id == turn.user.id, o.Order.status == OrderStatus.RESOLVED
        )
        ids = list(turn.session.exec(stmt).all())
        return ids[0] if len(ids) == 1 else None


def _move(
    turn: Turn,
    order_id: int | None,
    move: Callable[[int], o.Order],
    state_key: str,
    *,
    refused: str = "not_your_order",
) -> o.Order | None:
    """Run one order move; say in a clear sentence why it was refused, if it was."""
    if order_id is None:
        turn.say(turn.t("which_order"))
        return None
    try:
        return move(order_id)
    except NotFound:
        turn.say(turn.t("no_order", id=order_id))
    except AlreadyTaken:
        turn.say(turn.t("already_taken", id=order_id))
    except InvalidTransition as exc:
        turn.say(turn.t(state_key, id=order_id, status=turn.t(f"status_{exc.status}")))
    except NotPermitted:
        turn.say(turn.t(refused, id=order_id))
    except InvalidInput:
        turn.say(turn.t("bad_score", id=order_id))
    return None


LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def _local(at: datetime) -> datetime:
    """A stored UTC time as the users' wall-clock time (Beijing time)."""
    return as_utc(at).astimezone(LOCAL_TZ)


def _ref_order(ref: str) -> int | None:
    if ref.startswith("order:"):
        try:
            return int(ref.split(":", 1)[1])
        except ValueError:
            return None
    return None


def _first_id(text: str) -> int | None:
    m = _ID.search(text)
    return int(m.group(1)) if m else None


def _score(text: str) -> int | None:
    m = _SCORE.search(text)
    if m:
        return chinese_to_int(next(g for g in m.groups() if g))
    if "好评" in text:
        return 5
    if "差评" in text:
        return 1
    return None
