"""The order desk: 接单, 不合适, resolving, rating, cancelling; the timeline and the list of
one's orders are dialogs.order_views, which order a command means is dialogs.order_refs.
Commands arrive typed (an :class:`OrderCommand` read from text once, or an :class:`Action`
from a button); every read and write goes through store/."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from dialogs.actions import Act, Action
from dialogs.context import Turn
from dialogs.curation import CurationDesk
from dialogs.i18n import t
from dialogs.matching import MatchDesk
from dialogs.nlu.commands import OrderCommand, OrderVerb, is_order_text
from dialogs.notices import tell
from dialogs.order_refs import (
    CANCELLABLE,
    UNTAKEN,
    only_held,
    only_open,
    only_pending,
    only_resolved,
    order_ref,
    rejects_suggested,
)
from dialogs.order_views import list_orders, show_order
from dialogs.parties import PartyDesk, order_move
from dialogs.types import Button, Outbound
from store import orders as o
from store.errors import NotFound
from store.lifecycle import InvalidTransition, OrderStatus
from store.needs import get_need
from store.notifications import decline, notified_experts, notified_team
from store.order_reads import get_order, order_ids
from store.order_tables import Order
from store.phone import mask_then_truncate
from store.trust import (
    AcceptRefused,
    MarketRules,
    Refusal,
    check_accept,
    is_verified,
)
from store.users import Role, get_user

log = logging.getLogger(__name__)


@dataclass(slots=True)
class OrderDesk:
    """Order commands; browsing open needs is the matching desk's.

    *rules* say who may accept (store.trust.check_accept); *parties* tells both sides of an
    accept and carries what passes between them afterwards (consent, relay, reports).
    """

    matching: MatchDesk
    rules: MarketRules = field(default_factory=MarketRules)
    parties: PartyDesk = field(default_factory=PartyDesk)
    curation: CurationDesk | None = None  # asks whether a resolved solution may be shared

    def on_command(self, turn: Turn, cmd: OrderCommand) -> None:
        """A typed order command; a missing order number is the one the person means."""
        ref_id = order_ref(turn.incoming.reply_to_ref)
        match cmd.verb:
            case OrderVerb.CANCEL:
                self.cancel(turn, cmd.order_id or only_open(turn, as_expert=False))
            case OrderVerb.SHOW:
                show_order(turn, cmd.order_id)
            case OrderVerb.BROWSE:
                self.browse(turn)
            case OrderVerb.LIST:
                list_orders(turn)
            case OrderVerb.ACCEPT:
                self.accept(turn, cmd.order_id or ref_id or only_pending(turn))
            case OrderVerb.DECLINE if rejects_suggested(turn, cmd.order_id or ref_id):
                # "不合适 1" from the requester: the first expert suggested is not wanted
                latest = order_ids(
                    session=turn.session, statuses=CANCELLABLE, requester_id=turn.user.id
                )[-1]
                self.parties.reject_expert(turn, latest, cmd.order_id)
            case OrderVerb.DECLINE:
                self.decline(turn, cmd.order_id or ref_id)
            case OrderVerb.RESOLVE:
                order_id = cmd.order_id or ref_id or only_open(turn, as_expert=True)
                self.resolve(turn, order_id, cmd.note)
            case OrderVerb.RATE:
                order_id = cmd.order_id or only_resolved(turn)
                self.rate(turn, order_id, cmd.score, cmd.note)
            case OrderVerb.REPLY:
                self.parties.relay(turn, cmd.order_id, cmd.note)
            case OrderVerb.REPORT:
                self.parties.report(turn, cmd.order_id or ref_id, cmd.note)
            case OrderVerb.CONSENT:
                self.parties.consent(turn, cmd.order_id or ref_id or only_held(turn))
            case OrderVerb.SWAP:
                held = only_held(turn) or only_resolved(turn)
                self.parties.swap(turn, cmd.order_id or ref_id or held)
            case OrderVerb.NO_CONSENT:
                order_id = cmd.order_id or ref_id or only_held(turn)
                if order_id is None and not cmd.order_id:
                    turn.say(turn.t("no_consent_nothing"))  # no expert is waiting for it
                else:
                    self.parties.refuse_consent(turn, order_id)

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
                self.parties.consent(turn, action.order_id)
            case Act.SWAP:
                self.parties.swap(turn, action.order_id)

    def not_solved(self, turn: Turn, text: str) -> bool:
        """ "没解决", "还是不行" from a requester whose one resolved order awaits a rating: it is
        reopened, its expert told to go on with it. False (nothing done) otherwise."""
        if not NOT_SOLVED.search(text) or is_order_text(text):
            return False
        ref_id = order_ref(turn.incoming.reply_to_ref)
        order = self.parties.reopen_resolved(turn, ref_id or only_resolved(turn), text)
        if order is None:
            return False
        expert = get_user(session=turn.session, user_id=order.expert_id or 0)
        turn.say(turn.t("reopened_requester", id=order.id, name=expert.display_name))
        tell(
            turn.out,
            turn.session,
            order.expert_id,
            "reopened_expert",
            kind="reopened",
            ref=f"order:{order.id}",
            id=order.id,
            said=mask_then_truncate(text, 60),
        )
        return True

    def offer_cancel(self, turn: Turn) -> bool:
        """ "算了不要了" with nothing in progress: offer to withdraw the person's one open need.
        False when they have none (or several: they say which with 取消订单 N)."""
        order_id = only_open(turn, as_expert=False)
        if order_id is None:
            return False
        withdraw = Action(Act.CANCEL_ORDER, order_id=order_id)
        turn.state.yes = str(withdraw)  # "是" / "要" typed presses it
        order = get_order(session=turn.session, order_id=order_id)
        need = get_need(session=turn.session, need_id=order.need_id)
        held = order.status == OrderStatus.ACCEPTED
        turn.say(
            turn.t(
                "offer_cancel_held" if held else "offer_cancel_need",
                id=order_id,
                text=mask_then_truncate(need.text, 24),
            ),
            [
                [
                    Button(turn.t("btn_cancel_need"), withdraw),
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
        note = "" if may_take else turn.t("browse_unverified")
        self.matching.browse(turn, note, may_take=may_take)

    # ---- the moves -------------------------------------------------------------------------
    def accept(self, turn: Turn, order_id: int | None) -> None:
        user = turn.user
        if not user.has_role(Role.EXPERT):
            turn.say(turn.t("not_expert"))
            return
        if order_id is not None and not self._may_accept(turn, order_id):
            return
        on_accept = self.rules.contact_exchange == "on_accept"
        # told as a team's member: they take it on the team's behalf
        team_id = (
            notified_team(session=turn.session, order_id=order_id, expert_id=user.id or 0)
            if order_id is not None
            else None
        )
        order = order_move(
            turn,
            order_id,
            lambda oid: o.accept(
                session=turn.session,
                order_id=oid,
                expert=user,
                share_contacts=on_accept,
                team_id=team_id,
            ),
            "cannot_accept_state",
            refused="own_need",
        )
        if order is None or order_id is None:
            return
        self.parties.introduce(turn, order)
        session = turn.session
        for expert_id in notified_experts(session=session, order_id=order_id):
            if expert_id != user.id:
                tell(turn.out, session, expert_id, "taken_others", kind="taken", id=order_id)

    def _may_accept(self, turn: Turn, order_id: int) -> bool:
        """The trust rules (store.trust.check_accept); a refusal is one fixed sentence per
        rule and says nothing about the need. Unknown orders and one's own need are left to
        the move, which says so."""
        session, uid = turn.session, turn.user.id or 0
        try:
            order = get_order(session=session, order_id=order_id)
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

    def decline(self, turn: Turn, order_id: int | None) -> None:
        if order_id is None:
            turn.say(turn.t("which_order"))
            return
        try:
            held = get_order(session=turn.session, order_id=order_id)
        except NotFound:
            held = None
        if (
            held is not None
            and held.expert_id == turn.user.id
            and held.status == OrderStatus.ACCEPTED
        ):
            self.parties.give_back(turn, held)  # their own accepted order: back to others
            return
        told = decline(session=turn.session, order_id=order_id, expert_id=turn.user.id or 0)
        turn.say(turn.t("declined", id=order_id))
        if not self._dock_declined(turn, order_id) and told and held is not None:
            self._tell_declined(turn, held)

    def _tell_declined(self, turn: Turn, order: Order) -> None:
        """The requester hears that an expert they were shown cannot take their need, and
        when every expert told has said so, that the search goes on wider."""
        if order.status not in UNTAKEN:
            return
        session, order_id = turn.session, order.id or 0
        left = notified_experts(session=session, order_id=order_id, declined=False)
        key = "expert_declined_requester" if left else "all_declined_requester"
        tell(
            turn.out,
            session,
            order.requester_id,
            key,
            kind="declined",
            ref=f"order:{order_id}",
            id=order_id,
            name=turn.user.display_name,
        )

    def _dock_declined(self, turn: Turn, order_id: int) -> bool:
        """A 对接 request everyone it went to declined: it ends (expired), the requester is
        told; the state machine is the orders' own. Whether the order is a 对接 request
        (its requester hears of declines this way only)."""
        session = turn.session
        try:
            order = get_order(session=session, order_id=order_id)
            need = get_need(session=session, need_id=order.need_id)
        except NotFound:
            return False
        if need.achievement_id is None:
            return False
        if order.status not in UNTAKEN:
            return True
        if notified_experts(session=session, order_id=order_id, declined=False):
            return True  # a team member may still take it
        try:
            o.expire(session=session, order_id=order_id)
        except InvalidTransition:
            return True
        tell(turn.out, session, order.requester_id, "dock_declined", kind="expired", id=order_id)
        return True

    def resolve(self, turn: Turn, order_id: int | None, note: str) -> None:
        order = order_move(
            turn,
            order_id,
            lambda oid: o.resolve(session=turn.session, order_id=oid, expert=turn.user, note=note),
            "cannot_resolve_state",
        )
        if order is None:
            return
        turn.say(turn.t("resolved_expert", id=order_id))
        if self.curation is not None:
            self.curation.offer(turn, order, note)
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
        order = order_move(
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
        order = order_move(
            turn,
            order_id,
            lambda oid: o.cancel(session=turn.session, order_id=oid, requester=turn.user),
            "cannot_cancel_state",
        )
        if order is None:
            return
        turn.say(turn.t("cancelled_order", id=order_id))
        # the expert holding it, and every expert still offered it, need not act on it
        told = notified_experts(session=turn.session, order_id=order.id or 0, declined=False)
        for expert_id in dict.fromkeys([order.expert_id, *told]):
            tell(
                turn.out,
                turn.session,
                expert_id,
                "cancelled_expert",
                kind="cancelled",
                id=order_id,
            )


# "没解决", "还是不行", "问题还在": a resolved need that is not solved after all
NOT_SOLVED = re.compile(
    r"^\s*(?:还|可)?(?:是|都)?(?:没|没有|莫得|没得|未)(?:解决|弄好|搞好|治好|整好|好|效果|用)|"
    r"还是?(?:不行|没用|老样子|一样)|问题还在|又(?:犯|发)了|不管用|根本没"
)
