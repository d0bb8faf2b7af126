"""The order desk: 接单, 不合适, resolving, rating, cancelling, the timeline and the list of
one's orders. Commands arrive typed (an :class:`OrderCommand` read from text once, or an
:class:`Action` from a button); every read and write goes through store/."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from dialogs.actions import Act, Action
from dialogs.context import Turn
from dialogs.i18n import t
from dialogs.matching import MatchDesk, tell
from dialogs.nlu.commands import OrderCommand, OrderVerb
from dialogs.types import Button, Outbound, Outcome
from store import orders as o
from store.clock import as_utc
from store.errors import InvalidInput, NotFound
from store.experts import ExpertProfile, get_expert_profile
from store.lifecycle import (
    AlreadyTaken,
    InvalidTransition,
    NotPermitted,
    OrderStatus,
)
from store.needs import get_need
from store.notifications import decline, notified_experts
from store.phone import mask, mask_then_truncate
from store.trust import (
    AcceptRefused,
    MarketRules,
    Refusal,
    check_accept,
    is_verified,
    latest_review,
    record_contacts,
    report,
)
from store.users import Role, User, get_user
from store.validation import Region

log = logging.getLogger(__name__)


@dataclass(slots=True)
class OrderDesk:
    """Order commands; browsing open needs is the matching desk's.

    *rules* say who may accept (store.trust.check_accept) and when the two sides get each
    other's phone (at once, or when the requester agrees to the expert's profile).
    """

    matching: MatchDesk
    rules: MarketRules = field(default_factory=MarketRules)

    def on_command(self, turn: Turn, cmd: OrderCommand) -> None:
        """A typed order command; a missing order number is the one the person means."""
        ref_id = _ref_order(turn.incoming.reply_to_ref)
        match cmd.verb:
            case OrderVerb.CANCEL:
                self.cancel(turn, cmd.order_id or self._only_open(turn, as_expert=False))
            case OrderVerb.SHOW:
                self.show(turn, cmd.order_id)
            case OrderVerb.BROWSE:
                self.browse(turn)
            case OrderVerb.LIST:
                self.list_orders(turn)
            case OrderVerb.ACCEPT:
                self.accept(turn, cmd.order_id or ref_id or self._only_pending(turn))
            case OrderVerb.DECLINE:
                self.decline(turn, cmd.order_id or ref_id)
            case OrderVerb.RESOLVE:
                order_id = cmd.order_id or ref_id or self._only_open(turn, as_expert=True)
                self.resolve(turn, order_id, cmd.note)
            case OrderVerb.RATE:
                order_id = cmd.order_id or self._only_resolved(turn)
                self.rate(turn, order_id, cmd.score, cmd.note)
            case OrderVerb.REPLY:
                self.relay(turn, cmd.order_id, cmd.note)
            case OrderVerb.REPORT:
                self.report(turn, cmd.order_id or ref_id, cmd.note)

    def on_action(self, turn: Turn, action: Action) -> None:
        """An order button."""
        match action.kind:
            case Act.ACCEPT:
                self.accept(turn, action.order_id)
            case Act.DECLINE:
                self.decline(turn, action.order_id)
            case Act.RESOLVE:
                self.resolve(turn, action.order_id, "")
            case Act.RATE:
                self.rate(turn, action.order_id, action.n, "")
            case Act.CANCEL_ORDER:
                self.cancel(turn, action.order_id)
            case Act.CONSENT:
                self.consent(turn, action.order_id)
            case Act.SWAP:
                self.swap(turn, action.order_id)

    def offer_cancel(self, turn: Turn) -> bool:
        """ "算了不要了" with nothing in progress: offer to withdraw the person's one open need.
        False when they have none (or several: they say which with 取消订单 N)."""
        order_id = self._only_open(turn, as_expert=False)
        if order_id is None:
            return False
        turn.say(
            turn.t("offer_cancel_need", id=order_id),
            [
                [
                    Button(turn.t("btn_cancel_need"), Action(Act.CANCEL_ORDER, order_id=order_id)),
                    turn.button("btn_keep_need", Action(Act.NO_THANKS)),
                ]
            ],
        )
        return True

    def browse(self, turn: Turn) -> None:
        if not turn.user.has_role(Role.EXPERT):
            turn.say(turn.t("not_expert"))
            return
        may_take = self.rules.unverified_may_browse_accept or is_verified(
            session=turn.session, expert_id=turn.user.id or 0
        )
        self.matching.browse(turn, "" if may_take else turn.t("browse_unverified"))

    # ---- the moves -------------------------------------------------------------------------
    def accept(self, turn: Turn, order_id: int | None) -> None:
        user = turn.user
        if not user.has_role(Role.EXPERT):
            turn.say(turn.t("not_expert"))
            return
        if order_id is not None and not self._may_accept(turn, order_id):
            return
        on_accept = self.rules.contact_exchange == "on_accept"
        order = _move(
            turn,
            order_id,
            lambda oid: o.accept(
                session=turn.session, order_id=oid, expert=user, share_contacts=on_accept
            ),
            "cannot_accept_state",
            refused="own_need",
        )
        if order is None or order_id is None:
            return
        session = turn.session
        need = get_need(session=session, need_id=order.need_id)
        requester = get_user(session=session, user_id=order.requester_id)
        profile = get_expert_profile(session=session, user_id=user.id or 0)
        region = Region(need.province, need.city, need.county).label
        resolve_button = [[Button(turn.t("btn_resolve"), Action(Act.RESOLVE, order_id=order_id))]]
        about = self._profile_values(session, requester.locale, user, profile)
        if on_accept:
            turn.say(
                turn.t(
                    "accepted_expert",
                    id=order_id,
                    name=requester.display_name or "需求方",
                    phone=need.contact_phone,
                    region=region,
                    text=need.text,
                ),
                resolve_button,
            )
            tell(
                turn.out,
                session,
                requester.id,
                "accepted_requester",
                kind="accepted",
                ref=f"order:{order_id}",
                id=order_id,
                phone=user.phone or "-",
                **about,
            )
            self._record_exchange(turn, order)
        else:
            # until the requester agrees, neither side sees the other's phone
            turn.say(
                turn.t("accepted_expert_wait", id=order_id, region=region, text=mask(need.text)),
                resolve_button,
            )
            turn.out.outbound.append(
                Outbound(
                    requester.channel,
                    requester.external_id,
                    t("accepted_consent", requester.locale, id=order_id, **about),
                    buttons=[
                        [
                            Button(
                                t("btn_consent", requester.locale),
                                Action(Act.CONSENT, order_id=order_id),
                            ),
                            Button(
                                t("btn_swap", requester.locale),
                                Action(Act.SWAP, order_id=order_id),
                            ),
                        ]
                    ],
                    kind="accepted",
                    ref=f"order:{order_id}",
                )
            )
        for expert_id in notified_experts(session=session, order_id=order_id):
            if expert_id != user.id:
                tell(turn.out, session, expert_id, "taken_others", kind="taken", id=order_id)

    def _may_accept(self, turn: Turn, order_id: int) -> bool:
        """The trust rules (store.trust.check_accept); a refusal is one fixed sentence per
        rule and says nothing about the need. Unknown orders and one's own need are left to
        the move, which says so."""
        session, uid = turn.session, turn.user.id or 0
        try:
            order = o.get_order(session=session, order_id=order_id)
        except NotFound:
            return True
        if order.requester_id == uid:
            return True
        try:
            check_accept(
                session=session,
                order_id=order_id,
                expert_id=uid,
                rules=self.rules,
                in_scope=self.matching.in_scope(
                    session, uid, get_need(session=session, need_id=order.need_id)
                ),
            )
        except AcceptRefused as refused:
            limit = {
                Refusal.DAILY_LIMIT: self.rules.accepts_per_day,
                Refusal.OPEN_LIMIT: self.rules.max_open_orders,
            }.get(refused.reason, 0)
            turn.say(turn.t(f"refused_{refused.reason}", n=limit))
            return False
        return True

    def _profile_values(
        self, session: Session, locale: str, expert: User, profile: ExpertProfile | None
    ) -> dict[str, str]:
        """What a requester is shown of the expert: name, unit and title, verification and
        rating (never a phone)."""
        org = ""
        if profile is not None and (profile.organisation or profile.title):
            org = f"（{' '.join(x for x in (profile.organisation, profile.title) if x)}）"
        review = None
        if profile is not None:
            review = latest_review(session=session, expert_id=expert.id or 0)
        if review is not None and review.decision == "verified":
            badge = t("badge_verified", locale, unit=review.unit or "-")
        else:
            badge = t("badge_unverified", locale)
        avg = profile.rating_avg if profile is not None else None
        rating = (
            t("rating_value", locale, avg=avg, n=profile.rating_count)
            if profile is not None and avg is not None
            else t("rating_none", locale)
        )
        return {"name": expert.display_name, "org": org, "badge": badge, "rating": rating}

    def _record_exchange(self, turn: Turn, order: o.Order) -> None:
        if order.id is None or order.expert_id is None:
            return
        record_contacts(
            session=turn.session,
            order_id=order.id,
            pairs=[(order.expert_id, order.requester_id), (order.requester_id, order.expert_id)],
        )

    def consent(self, turn: Turn, order_id: int | None) -> None:
        """同意交换联系方式: each side gets the other's phone, and that is recorded."""
        current = self._own_accepted(turn, order_id)
        if current is None or order_id is None:
            return
        if current.contacts_at is not None:
            turn.say(turn.t("already_exchanged", id=order_id))
            return
        order = _move(
            turn,
            order_id,
            lambda oid: o.consent(session=turn.session, order_id=oid, requester=turn.user),
            "cannot_accept_state",
        )
        if order is None or order.expert_id is None:
            return
        session = turn.session
        expert = get_user(session=session, user_id=order.expert_id)
        need = get_need(session=session, need_id=order.need_id)
        self._record_exchange(turn, order)
        turn.say(
            turn.t("consented_requester", name=expert.display_name, phone=expert.phone or "-")
        )
        tell(
            turn.out,
            session,
            expert.id,
            "consented_expert",
            kind="contacts",
            ref=f"order:{order_id}",
            id=order_id,
            name=turn.user.display_name or "需求方",
            phone=need.contact_phone or turn.user.phone or "-",
        )

    def swap(self, turn: Turn, order_id: int | None) -> None:
        """换一位: the order goes back to the other experts; this one is thanked politely."""
        current = self._own_accepted(turn, order_id)
        if current is None or order_id is None or current.expert_id is None:
            return
        if current.contacts_at is not None:
            turn.say(turn.t("cannot_swap", id=order_id))
            return
        expert_id = current.expert_id
        order = _move(
            turn,
            order_id,
            lambda oid: o.release(
                session=turn.session,
                order_id=oid,
                expert_id=expert_id,
                actor_id=turn.user.id,
                requester_only=True,
                note="swap",
            ),
            "cannot_swap",
        )
        if order is None:
            return
        turn.say(turn.t("swapped_requester", id=order_id))
        tell(turn.out, turn.session, expert_id, "swapped_expert", kind="released", id=order_id)
        self._tell_reopened(turn.out, turn.session, order_id)

    def withdraw_all(self, turn: Turn, expert_id: int) -> int:
        """A suspended expert's accepted orders whose contacts were not exchanged go back to
        other experts; their requesters are told. The number withdrawn."""
        session = turn.session
        n = 0
        for order_id in o.order_ids(
            session=session, statuses=(OrderStatus.ACCEPTED,), expert_id=expert_id
        ):
            if o.get_order(session=session, order_id=order_id).contacts_at is not None:
                continue
            try:
                order = o.release(
                    session=session,
                    order_id=order_id,
                    expert_id=expert_id,
                    actor_id=turn.user.id,
                    note="suspended",
                )
            except (InvalidTransition, NotPermitted):
                continue  # resolved, cancelled or exchanged meanwhile
            n += 1
            tell(
                turn.out,
                session,
                order.requester_id,
                "withdrawn_requester",
                kind="released",
                id=order_id,
            )
            self._tell_reopened(turn.out, session, order_id)
        return n

    def _tell_reopened(self, out: Outcome, session: Session, order_id: int) -> None:
        """Experts told of this order who did not decline it may take it now."""
        accept = Action(Act.ACCEPT, order_id=order_id)
        for expert_id in notified_experts(session=session, order_id=order_id, declined=False):
            try:
                expert = get_user(session=session, user_id=expert_id)
            except NotFound:
                continue
            out.outbound.append(
                Outbound(
                    expert.channel,
                    expert.external_id,
                    t("reopened", expert.locale, id=order_id),
                    buttons=[[Button(t("btn_accept", expert.locale), accept)]],
                    kind="new_need",
                    ref=f"order:{order_id}",
                )
            )

    def relay(self, turn: Turn, order_id: int | None, text: str) -> None:
        """A message for the other party of the order, passed on with its number and kept on
        the timeline; phones masked until the two exchanged contacts."""
        if order_id is None:
            turn.say(turn.t("which_order"))
            return
        order = self._party_order(turn, order_id)
        if order is None:
            return
        text = text.strip()
        if not text:
            turn.say(turn.t("relay_empty", id=order_id))
            return
        uid = turn.user.id
        other_id = order.expert_id if uid == order.requester_id else order.requester_id
        if other_id is None:
            turn.say(turn.t("no_expert_on_order", id=order_id))
            return
        shown = text if order.contacts_at is not None else mask(text)
        o.add_message(session=turn.session, order_id=order_id, actor_id=uid or 0, text=shown)
        other = get_user(session=turn.session, user_id=other_id)
        role = "relay_who_requester" if uid == order.requester_id else "relay_who_expert"
        who = t(role, other.locale, name=turn.user.display_name)
        turn.out.outbound.append(
            Outbound(
                other.channel,
                other.external_id,
                t("relayed", other.locale, id=order_id, who=who, text=shown),
                kind="relay",
                ref=f"order:{order_id}",
            )
        )
        turn.say(turn.t("relay_sent", id=order_id))

    def report(self, turn: Turn, order_id: int | None, reason: str) -> None:
        """举报 N 原因: a report on the order's other party, for the administrators."""
        if order_id is None:
            turn.say(turn.t("which_order"))
            return
        order = self._party_order(turn, order_id)
        if order is None:
            return
        uid = turn.user.id or 0
        other_id = order.expert_id if uid == order.requester_id else order.requester_id
        if other_id is None:
            turn.say(turn.t("no_expert_on_order", id=order_id))
            return
        if not reason.strip():
            turn.say(turn.t("report_empty", id=order_id))
            return
        report(
            session=turn.session,
            order_id=order_id,
            reporter_id=uid,
            reported_id=other_id,
            reason=mask(reason),
        )
        turn.say(turn.t("reported", id=order_id))

    def _party_order(self, turn: Turn, order_id: int) -> o.Order | None:
        """The order when this person is one of its parties; otherwise one sentence that
        reveals nothing (not even whether the number exists)."""
        try:
            order = o.get_order(session=turn.session, order_id=order_id)
        except NotFound:
            order = None
        if order is None or turn.user.id not in (order.requester_id, order.expert_id):
            turn.say(turn.t("not_your_order", id=order_id))
            return None
        return order

    def _own_accepted(self, turn: Turn, order_id: int | None) -> o.Order | None:
        """The requester's order that an expert holds, or a sentence saying why not."""
        if order_id is None:
            turn.say(turn.t("which_order"))
            return None
        try:
            order = o.get_order(session=turn.session, order_id=order_id)
        except NotFound:
            turn.say(turn.t("no_order", id=order_id))
            return None
        if order.requester_id != turn.user.id:
            turn.say(turn.t("not_your_order", id=order_id))
            return None
        if order.status != OrderStatus.ACCEPTED or order.expert_id is None:
            turn.say(turn.t("no_expert_on_order", id=order_id))
            return None
        return order

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
        requester = get_user(session=turn.session, user_id=order.requester_id)
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
                            Action(Act.RATE, order_id=order_id, n=n),
                        )
                        for n in range(1, 6)
                    ]
                ],
                kind="rate",
                ref=f"order:{order_id}",
            )
        )

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
        rows = o.orders_with_needs(session=turn.session, user_id=uid, limit=20)
        if not rows:
            turn.say(turn.t("orders_none"))
            return
        lines = [turn.t("orders_head")]
        for order, need in rows:
            role = turn.t("role_requester" if order.requester_id == uid else "role_expert")
            text = need.text[:24] + "…" if len(need.text) > 24 else need.text
            if order.requester_id != uid and order.status in _UNTAKEN:
                text = mask_then_truncate(need.text, 24)
            lines.append(
                turn.t(
                    "order_line",
                    id=order.id,
                    role=role,
                    status=turn.t(f"status_{order.status}"),
                    text=text,
                )
            )
        turn.say("\n".join(lines))

    def show(self, turn: Turn, order_id: int | None) -> None:
        if order_id is None:
            turn.say(turn.t("which_order"))
            return
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
            if ev.action == "release":
                note = ""  # why (swap, suspension) is nobody else's business
            label = f"event_{ev.action}"
            if ev.action == "message":
                side = "requester" if ev.actor_id == order.requester_id else "expert"
                label = f"event_message_{side}"
            lines.append(f"· {when} {turn.t(label)}{note}")
        turn.say("\n".join(lines))

    # ---- helpers --------------------------------------------------------------------------------
    def _only_pending(self, turn: Turn) -> int | None:
        """The one open order this expert was notified about, if there is exactly one."""
        return _only(
            o.order_ids(
                session=turn.session,
                statuses=(OrderStatus.POSTED, OrderStatus.MATCHED),
                notified_expert_id=turn.user.id,
            )
        )

    def _only_open(self, turn: Turn, *, as_expert: bool) -> int | None:
        uid = turn.user.id
        if as_expert:
            ids = o.order_ids(
                session=turn.session, statuses=(OrderStatus.ACCEPTED,), expert_id=uid
            )
        else:
            ids = o.order_ids(session=turn.session, statuses=_CANCELLABLE, requester_id=uid)
        return _only(ids)

    def _only_resolved(self, turn: Turn) -> int | None:
        return _only(
            o.order_ids(
                session=turn.session, statuses=(OrderStatus.RESOLVED,), requester_id=turn.user.id
            )
        )


_UNTAKEN = (OrderStatus.POSTED.value, OrderStatus.MATCHED.value)
_CANCELLABLE = (OrderStatus.POSTED, OrderStatus.MATCHED, OrderStatus.ACCEPTED)


def _only(ids: list[int]) -> int | None:
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
