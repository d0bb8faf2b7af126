"""What passes between the two parties of an order once an expert accepts: the expert's
profile for the requester and their consent before phones are exchanged (同意交换联系方式 /
换一位), messages relayed per order, reports, and orders withdrawn from a suspended expert.

Who sees whose phone is recorded (store.trust.record_contacts); until the two agreed, every
phone in what passes between them is masked."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlmodel import Session

from dialogs.actions import Act, Action
from dialogs.context import Turn
from dialogs.i18n import t
from dialogs.notices import tell
from dialogs.types import Button, Outbound, Outcome
from knowledge.anonymise import mask_personal
from store import orders as o
from store.errors import InvalidInput, NotFound
from store.experts import ExpertProfile, get_expert_profile
from store.lifecycle import AlreadyTaken, InvalidTransition, NotPermitted, OrderStatus
from store.media import media_for_need
from store.needs import get_need
from store.notifications import decline as decline_notice
from store.notifications import notified_experts
from store.order_reads import get_order, order_ids
from store.order_tables import Order
from store.phone import mask
from store.trust import MarketRules, latest_review, record_contacts, report
from store.users import User, get_user
from store.validation import Region


@dataclass(slots=True)
class PartyDesk:
    """The requester and the accepting expert of an order, and what passes between them.

    *rules*: CONTACT_EXCHANGE says whether phones go out on accepting or on consent.
    """

    rules: MarketRules = field(default_factory=MarketRules)

    def introduce(self, turn: Turn, order: Order) -> None:
        """Tell both sides about an accept that just succeeded (*turn* is the expert's)."""
        order_id, user = order.id, turn.user
        on_accept = self.rules.contact_exchange == "on_accept"
        session = turn.session
        need = get_need(session=session, need_id=order.need_id)
        requester = get_user(session=session, user_id=order.requester_id)
        profile = get_expert_profile(session=session, user_id=user.id or 0)
        region = Region(need.province, need.city, need.county).label
        resolve_button = [[Button(turn.t("btn_resolve"), Action(Act.RESOLVE, order_id=order_id))]]
        about = self._profile_values(session, requester.locale, user, profile)
        shown = len(turn.out.replies)
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
                turn.t(
                    "accepted_expert_wait",
                    id=order_id,
                    region=region,
                    text=mask_personal(need.text),
                ),
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
        if len(turn.out.replies) > shown:
            # the order card the accepting expert gets shows the need's photos and voice
            turn.out.replies[shown].media = tuple(
                m.id for m in media_for_need(session=session, need_id=need.id or 0) if m.id
            )

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

    def _record_exchange(self, turn: Turn, order: Order) -> None:
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
        order = order_move(
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

    def refuse_consent(self, turn: Turn, order_id: int | None) -> None:
        """不同意交换联系方式: nothing is exchanged; both sides go on talking through the
        assistant, and the expert is told so without a name, id or phone of the requester."""
        current = self._own_accepted(turn, order_id)
        if current is None or order_id is None or current.expert_id is None:
            return
        if current.contacts_at is not None:
            turn.say(turn.t("already_exchanged", id=order_id))
            return
        turn.say(turn.t("no_consent_requester", id=order_id))
        tell(
            turn.out,
            turn.session,
            current.expert_id,
            "no_consent_expert",
            kind="relay",
            ref=f"order:{order_id}",
            id=order_id,
        )

    def reject_expert(self, turn: Turn, order_id: int, number: int | None) -> None:
        """不合适 N: the requester does not want the Nth expert suggested for *order_id* (as
        numbered in "已为您通知…"); that expert can no longer take it. The expert who holds
        it (or 不合适 alone after an accept) is swapped (换一位)."""
        order = get_order(session=turn.session, order_id=order_id)
        told = notified_experts(session=turn.session, order_id=order_id)
        if number is None:
            if order.status == OrderStatus.ACCEPTED:
                self.swap(turn, order_id)
            else:
                turn.say(turn.t("reject_which", id=order_id, n=len(told)))
            return
        if not 1 <= number <= len(told):
            turn.say(turn.t("reject_no_such", id=order_id, number=number, n=len(told)))
            return
        expert_id = told[number - 1]
        if order.status == OrderStatus.ACCEPTED and order.expert_id == expert_id:
            self.swap(turn, order_id)
            return
        decline_notice(session=turn.session, order_id=order_id, expert_id=expert_id)
        name = get_user(session=turn.session, user_id=expert_id).display_name
        left = notified_experts(session=turn.session, order_id=order_id, declined=False)
        key = "rejected_expert" if left or order.status == OrderStatus.ACCEPTED else "rejected_all"
        turn.say(turn.t(key, id=order_id, name=name or turn.t("expert_unnamed")))

    def give_back(self, turn: Turn, order: Order) -> None:
        """不合适 N from the expert who holds N: it goes back to the other experts and the
        requester is told (after contacts were exchanged it stays theirs: they say so)."""
        order_id = order.id or 0
        try:
            o.release(
                session=turn.session,
                order_id=order_id,
                expert_id=turn.user.id or 0,
                actor_id=turn.user.id,
                note="declined",
            )
        except (InvalidTransition, NotPermitted):
            turn.session.rollback()
            turn.say(turn.t("cannot_give_back", id=order_id))
            return
        turn.say(turn.t("given_back", id=order_id))
        tell(
            turn.out,
            turn.session,
            order.requester_id,
            "withdrawn_requester",
            kind="released",
            id=order_id,
        )
        self._tell_reopened(turn.out, turn.session, order_id)

    def swap(self, turn: Turn, order_id: int | None) -> None:
        """换一位: the order goes back to the other experts; this one is thanked politely. A
        resolved order the requester is not content with is reopened first (also after
        contacts were exchanged: whom to work with is the requester's choice)."""
        self.reopen_resolved(turn, order_id)
        current = self._own_accepted(turn, order_id)
        if current is None or order_id is None or current.expert_id is None:
            return
        expert_id = current.expert_id
        order = order_move(
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

    def reopen_resolved(self, turn: Turn, order_id: int | None, note: str = "") -> Order | None:
        """The requester's resolved order back to its expert (not solved after all); None
        when *order_id* is no resolved order of theirs (nothing is said then)."""
        if order_id is None:
            return None
        try:
            order = get_order(session=turn.session, order_id=order_id)
        except NotFound:
            return None
        if order.status != OrderStatus.RESOLVED or order.requester_id != turn.user.id:
            return None
        return order_move(
            turn,
            order_id,
            lambda oid: o.reopen(
                session=turn.session, order_id=oid, requester=turn.user, note=note
            ),
            "cannot_reopen_state",
        )

    def withdraw_all(self, turn: Turn, expert_id: int) -> int:
        """A suspended expert's accepted orders whose contacts were not exchanged go back to
        other experts; their requesters are told. The number withdrawn."""
        session = turn.session
        n = 0
        for order_id in order_ids(
            session=session, statuses=(OrderStatus.ACCEPTED,), expert_id=expert_id
        ):
            if get_order(session=session, order_id=order_id).contacts_at is not None:
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
        found = self._other_party(turn, order_id)
        if found is None:
            return
        order, order_id, other_id = found
        text = text.strip()
        if not text:
            turn.say(turn.t("relay_empty", id=order_id))
            return
        uid = turn.user.id
        shown = text if order.contacts_at is not None else mask(text)
        o.add_message(session=turn.session, order_id=order_id, actor_id=uid or 0, text=shown)
        other = get_user(session=turn.session, user_id=other_id)
        from_requester = uid == order.requester_id
        if from_requester and order.contacts_at is None:
            # the requester's name (on some channels an account id) waits for their consent
            who = t("relay_who_requester_anonymous", other.locale)
        else:
            role = "relay_who_requester" if from_requester else "relay_who_expert"
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
        found = self._other_party(turn, order_id)
        if found is None:
            return
        order, order_id, other_id = found
        uid = turn.user.id or 0
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

    def _other_party(self, turn: Turn, order_id: int | None) -> tuple[Order, int, int] | None:
        """This person's order, its number and the id of the person on its other side, or one
        sentence saying why not (which order? not yours; no expert yet)."""
        if order_id is None:
            turn.say(turn.t("which_order"))
            return None
        order = self._party_order(turn, order_id)
        if order is None:
            return None
        mine = turn.user.id == order.requester_id
        other_id = order.expert_id if mine else order.requester_id
        if other_id is None:
            turn.say(turn.t("no_expert_on_order", id=order_id))
            return None
        return order, order_id, other_id

    def _party_order(self, turn: Turn, order_id: int) -> Order | None:
        """The order when this person is one of its parties; otherwise one sentence that
        reveals nothing (not even whether the number exists)."""
        try:
            order = get_order(session=turn.session, order_id=order_id)
        except NotFound:
            order = None
        if order is None or turn.user.id not in (order.requester_id, order.expert_id):
            turn.say(turn.t("not_your_order", id=order_id))
            return None
        return order

    def _own_accepted(self, turn: Turn, order_id: int | None) -> Order | None:
        """The requester's order that an expert holds, or a sentence saying why not."""
        if order_id is None:
            turn.say(turn.t("which_order"))
            return None
        try:
            order = get_order(session=turn.session, order_id=order_id)
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


def order_move(
    turn: Turn,
    order_id: int | None,
    move: Callable[[int], Order],
    state_key: str,
    *,
    refused: str = "not_your_order",
) -> Order | None:
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
