"""Reading orders: the list of one's orders and an order's timeline, in Beijing time."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from dialogs.context import Turn
from dialogs.order_refs import UNTAKEN
from store.clock import as_utc
from store.errors import NotFound
from store.media import media_for_need
from store.order_reads import get_order, orders_with_needs, timeline
from store.phone import mask_then_truncate

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def local_time(at: datetime) -> datetime:
    """A stored UTC time as the users' wall-clock time (Beijing time)."""
    return as_utc(at).astimezone(LOCAL_TZ)


def list_orders(turn: Turn) -> None:
    uid = turn.user.id or 0
    rows = orders_with_needs(session=turn.session, user_id=uid, limit=20)
    if not rows:
        turn.say(turn.t("orders_none"))
        return
    lines = [turn.t("orders_head")]
    for order, need in rows:
        role = turn.t("role_requester" if order.requester_id == uid else "role_expert")
        if order.team_id is not None and uid not in (order.requester_id, order.expert_id):
            role = turn.t("role_team")  # a team member sees the team's order
        text = need.text[:24] + "…" if len(need.text) > 24 else need.text
        if order.requester_id != uid and order.status in UNTAKEN:
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


def show_order(turn: Turn, order_id: int | None) -> None:
    if order_id is None:
        turn.say(turn.t("which_order"))
        return
    try:
        order = get_order(session=turn.session, order_id=order_id)
    except NotFound:
        turn.say(turn.t("no_order", id=order_id))
        return
    if turn.user.id not in (order.requester_id, order.expert_id):
        turn.say(turn.t("not_your_order", id=order_id))
        return
    lines = [turn.t("timeline_head", id=order_id, status=turn.t(f"status_{order.status}"))]
    holder: int | None = None  # who accepted it last
    for ev in timeline(session=turn.session, order_id=order_id):
        when = local_time(ev.at).strftime("%m-%d %H:%M")
        note = f"：{ev.note}" if ev.note and not ev.note.startswith("scope=") else ""
        label = f"event_{ev.action}"
        if ev.action == "accept":
            holder = ev.actor_id
        if ev.action == "release":
            note = ""  # why (swap, suspension) is nobody else's business
            if ev.actor_id is not None and ev.actor_id == holder:
                label = "event_release_expert"  # the expert handed it back

        if ev.action == "message":
            side = "requester" if ev.actor_id == order.requester_id else "expert"
            label = f"event_message_{side}"
        lines.append(f"· {when} {turn.t(label)}{note}")
    reply = turn.out.say("\n".join(lines))
    # the order card shows the need's photos and voice (to its requester and expert)
    reply.media = tuple(
        m.id for m in media_for_need(session=turn.session, need_id=order.need_id) if m.id
    )
